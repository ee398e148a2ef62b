// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"rathaus"
	"rathaus/fitconnect"
)

func TestFileStoreSurvivesReopen(t *testing.T) {
	f := keys(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fitconnect", "store.json")
	st, err := fitconnect.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := fitconnect.NewDeliveryService(st, fitconnect.ServiceConfig{BaseURL: "https://zustelldienst.example", SigningKey: f.service, TrustRoots: f.ca.Pool})
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: tenantA, Services: []fitconnect.PublicService{{Identifier: leika}},
		EncryptionKey: f.enc.Public, SigningKey: f.sig.Public})
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := svc.CreateClient(ctx, tenantA, fitconnect.RoleSubscriber, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file: %v, %v", fi, err)
	}

	again, err := fitconnect.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := again.Destination(ctx, tenantA, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	enc := d2.Key(d2.EncryptionKid)
	if enc == nil {
		t.Fatalf("encryption key lost: %+v", d2)
	}
	if err := fitconnect.CheckKey(enc, fitconnect.UseEncryption, fitconnect.KeyCheck{Roots: f.ca.Pool}); err != nil {
		t.Errorf("reloaded key: %v", err)
	}
	c, err := again.ClientByID(ctx, id)
	if err != nil || c.Tenant != tenantA || c.DestinationIDs[0] != d.ID {
		t.Errorf("client = %+v, %v", c, err)
	}
	_, err = again.Destination(ctx, tenantB, d.ID)
	wantCode(t, err, rathaus.ENOTFOUND, "not found")

	os.WriteFile(path, []byte("{broken"), 0o600)
	_, err = fitconnect.OpenFileStore(path)
	wantCode(t, err, rathaus.EINVALID, "not valid JSON")
}

func TestFileStoreSeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.json")
	a, err := fitconnect.OpenFileStore(path) // e.g. rathaus fitconnect serve
	if err != nil {
		t.Fatal(err)
	}
	b, err := fitconnect.OpenFileStore(path) // e.g. rathaus fitconnect destination create
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CreateClient(ctx, &fitconnect.APIClient{Tenant: tenantA, ID: "client-a", Role: fitconnect.RoleSender}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateClient(ctx, &fitconnect.APIClient{Tenant: tenantA, ID: "client-b", Role: fitconnect.RoleSender}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ClientByID(ctx, "client-b"); err != nil {
		t.Errorf("a does not see b's client: %v", err)
	}
	if err := a.CreateClient(ctx, &fitconnect.APIClient{Tenant: tenantA, ID: "client-c", Role: fitconnect.RoleSender}); err != nil {
		t.Fatal(err)
	}
	c, err := fitconnect.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"client-a", "client-b", "client-c"} {
		if _, err := c.ClientByID(ctx, id); err != nil {
			t.Errorf("%s lost: %v", id, err)
		}
	}
}
