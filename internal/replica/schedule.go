package replica

import "time"

// Schedule is how Litestream is told to keep the replica so that nothing
// deleted from the database survives in it longer than Retention.
//
// Litestream (v0.5) keeps full snapshots taken every SnapshotInterval
// (aligned to the clock) and, between them, compacted change files (levels
// 1 to 3). Each time it takes a snapshot it deletes the snapshots older
// than SnapshotRetention, always keeping the newest, and then the change
// files older than the newest snapshot it deleted. A deleted row's old
// bytes are therefore gone once the first snapshot taken after the
// deletion has itself been deleted. With I the snapshot interval and
// SnapshotRetention = Retention - 2I - I/4, that happens at most
// Retention - I after the deletion reached the replica (one more interval
// if the deletion reached it in the last second before a snapshot): within
// Retention either way. Change files of level 0 go sooner: L0Retention
// after they were compacted into level 1.
//
// The price is the point-in-time window: a restore can go back between
// Retention/2 (just after a snapshot was deleted) and 2/3 of Retention.
type Schedule struct {
	Retention          time.Duration
	SnapshotInterval   time.Duration
	SnapshotRetention  time.Duration
	Levels             []time.Duration
	L0Retention        time.Duration
	L0CheckInterval    time.Duration
	CheckpointInterval time.Duration
}

// NewSchedule derives Litestream's intervals from the retention: six
// snapshots per retention period (every 4 hours for the default day), and
// the change levels at Litestream's defaults (30 s, 5 min, 1 h), shortened
// when the retention is short so each stays within a snapshot interval.
func NewSchedule(retention time.Duration) Schedule {
	i := retention / 6
	s := Schedule{
		Retention:         retention,
		SnapshotInterval:  i,
		SnapshotRetention: retention - 2*i - i/4,
		Levels:            []time.Duration{min(30*time.Second, i/8), min(5*time.Minute, i/4), min(time.Hour, i/2)},
		L0Retention:       min(5*time.Minute, i/4),
		L0CheckInterval:   min(15*time.Second, i/8),
		// Litestream checkpoints at least this often while there are
		// changes: what bounds deleted data in the live WAL (db.ErasureDeadline).
		CheckpointInterval: min(30*time.Second, i),
	}
	return s
}

// RestoreWindow says how far back a point-in-time restore can go: at
// least the first, at most the second, depending on when the last
// snapshot was taken.
func (s Schedule) RestoreWindow() (least, most time.Duration) {
	return s.Retention - 3*s.SnapshotInterval, s.Retention - 2*s.SnapshotInterval
}
