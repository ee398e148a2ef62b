// SPDX-License-Identifier: EUPL-1.2

// Command rathaus is the one binary of the digital town hall: the server, the
// importers and the operator tools. See docs/ARCHITECTURE.md §5 for the
// command-line contract.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"rathaus"
)

// Command is one subcommand. Name is one or two words ("serve",
// "import municipalities"). Each lives in its own cmd_*.go file and registers
// itself in init.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command may touch of the outside world, so that tests can
// run commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

var commands = map[string]*Command{}

func register(c *Command) {
	if _, dup := commands[c.Name]; dup {
		panic("duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(Main(ctx, env, os.Args[1:]))
}

// Main runs the command named by args and returns the exit code: 0 on
// success, 1 on a failed command (with a one-line reason on stderr), 2 on a
// usage error.
func Main(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		return 2
	}
	var cmd *Command
	rest := args[1:]
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			cmd, rest = c, args[2:]
		}
	}
	if cmd == nil {
		cmd = commands[args[0]]
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "rathaus: unknown command %q\n", strings.Join(args[:min(2, len(args))], " "))
		usage(env.Stderr)
		return 2
	}
	if err := cmd.Run(ctx, env, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.Stderr, "rathaus %s: %v\n", cmd.Name, err)
			return 2
		}
		msg := err.Error()
		if e, ok := errors.AsType[*rathaus.Error](err); ok && e.Err == nil {
			msg = e.Message
		}
		fmt.Fprintf(env.Stderr, "rathaus %s: %s\n", cmd.Name, oneLine(msg))
		return 1
	}
	return 0
}

// usageError marks a wrong invocation (exit code 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "rathaus — the digital town hall\n\nUsage: rathaus COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-26s %s\n", n, commands[n].Summary)
	}
}

// newFlagSet returns a flag set that writes its usage to env.Stderr and
// returns errors instead of exiting.
func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("rathaus "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// envDefault returns the RATHAUS_* environment value for key or def.
func envDefault(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseInterspersed parses flags that may appear after positional arguments
// ("rathaus import leika FILE --tenant X") and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
