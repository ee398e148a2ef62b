// SPDX-License-Identifier: EUPL-1.2

// Package scantest starts a real ClamAV daemon (clamd) for tests, with a
// local signature database that only knows the EICAR test file (no
// download). Tests skip when clamd is not installed, unless
// RATHAUS_REQUIRE_ALL is set.
package scantest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"rathaus/scan"
)

// EICAR is the standard antivirus test file (harmless).
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Signature is the name the local database gives EICAR.
const Signature = "Rathaus-Test-EICAR"

// clamdPath finds the clamd binary.
func clamdPath() string {
	if p, err := exec.LookPath("clamd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/clamd"); err == nil {
		return "/usr/sbin/clamd"
	}
	return ""
}

// Start runs clamd in a temporary directory and returns its unix socket
// address ("unix:/…/clamd.sock"); it is stopped when the test ends.
func Start(tb testing.TB) string {
	tb.Helper()
	bin := clamdPath()
	if bin == "" {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			tb.Fatal("clamd not installed (apt-get install clamav-daemon) and RATHAUS_REQUIRE_ALL is set")
		}
		tb.Skip("clamd not installed (apt-get install clamav-daemon); skipping the ClamAV test")
	}
	dir, err := os.MkdirTemp("", "rathaus-clamd-")
	if err != nil {
		tb.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		tb.Fatal(err)
	}
	// MD5 signature of the EICAR string: md5:size:name.
	sig := "44d88612fea8a8f36de82e1278abb02f:68:" + Signature + "\n"
	if err := os.WriteFile(filepath.Join(db, "rathaus.hdb"), []byte(sig), 0o644); err != nil {
		tb.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := "LocalSocket " + sock + "\nDatabaseDirectory " + db + "\nForeground yes\nTemporaryDirectory " + dir +
		"\nLogFile " + filepath.Join(dir, "clamd.log") + "\nLogVerbose no\nPidFile " + filepath.Join(dir, "clamd.pid") + "\n"
	if os.Geteuid() == 0 {
		conf += "User root\n"
	}
	cf := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--config-file="+cf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-done
		os.RemoveAll(dir)
	}
	addr := "unix:" + sock
	c, _ := scan.NewClamd(addr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := c.Ping(context.Background()); err == nil {
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			os.RemoveAll(dir)
			tb.Fatalf("clamd exited: %s\n%s", out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("clamd did not answer within 60 s: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Cleanup(stop)
	return addr
}
