package testkit

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"

	"fse/db"
)

// Disk stands for the disk under one database file. Fill makes every write
// transaction of the database's writer fail at its commit, which is where
// a full disk fails a write in WAL mode (the WAL cannot grow); reads go on.
// Free lets writes through again.
//
// SQLite's max_page_count only refuses writes that grow the file: the small
// updates and the deletions a full disk also refuses would get through.
type Disk struct{ full atomic.Bool }

// Fill makes the disk full.
func (k *Disk) Fill() { k.full.Store(true) }

// Free makes room on the disk again.
func (k *Disk) Free() { k.full.Store(false) }

// disks are the Disks of the writers opened since WatchDisks, by file. The
// driver's connection hooks are global to the test binary, so this is too.
var (
	disks      sync.Map // path -> *Disk
	watchDisks sync.Once
)

// WatchDisks gives every database opened from now on a Disk that DiskOf
// returns. Call it before opening the database.
func WatchDisks() {
	watchDisks.Do(func() {
		sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
			// Only the writer: its DSN alone asks for immediate transactions.
			if !strings.Contains(dsn, "_txlock=immediate") {
				return nil
			}
			hooks, ok := conn.(sqlite.HookRegisterer)
			if !ok {
				return nil
			}
			k, _ := disks.LoadOrStore(pathOfDSN(dsn), &Disk{})
			disk := k.(*Disk)
			hooks.RegisterCommitHook(func() int32 {
				if disk.full.Load() {
					return 1 // the commit becomes a rollback and fails
				}
				return 0
			})
			return nil
		})
	})
}

// DiskOf returns the disk under d's file. It fails the test if d was opened
// before WatchDisks.
func DiskOf(t testing.TB, d *db.DB) *Disk {
	t.Helper()
	k, ok := disks.Load(d.Path)
	if !ok {
		t.Fatalf("no disk watched under %s: call testkit.WatchDisks before opening the database", d.Path)
	}
	t.Cleanup(func() { disks.Delete(d.Path) })
	return k.(*Disk)
}

// pathOfDSN undoes db's file: URI of a path.
func pathOfDSN(dsn string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return strings.NewReplacer("%3F", "?", "%23", "#", "%25", "%").Replace(p)
}
