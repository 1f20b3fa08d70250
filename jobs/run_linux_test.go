package jobs_test

import (
	"context"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"fse/jobs"
)

// niceJob records the nice value of the thread it runs on.
type niceJob struct {
	background bool
	nice       int
}

func (j *niceJob) Background() bool { return j.background }

func (j *niceJob) RunOnce(context.Context) error {
	var err error
	j.nice, err = threadNice()
	return err
}

// threadNice is the nice value of the calling thread (the raw call
// answers 20 - nice).
func threadNice() (int, error) {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - p, err
}

// TestRunGivesBulkJobsTheLowestPriority proves the purge and the optimize
// (background jobs) run at nice 19, so pages keep the core, while the
// delivery of notifications keeps the normal priority.
func TestRunGivesBulkJobsTheLowestPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	normal, err := threadNice()
	if err != nil {
		t.Fatal(err)
	}
	for _, bg := range []bool{true, false} {
		j := &niceJob{background: bg}
		if err := jobs.Run(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		want := normal
		if bg {
			want = 19
		}
		if j.nice != want {
			t.Errorf("background=%v: job ran at nice %d, want %d", bg, j.nice, want)
		}
	}
	for _, tc := range []struct {
		job  jobs.Job
		want bool
	}{{jobs.Expire{}, true}, {jobs.Optimize{}, true}, {jobs.Deliver{}, false}} {
		b, ok := tc.job.(interface{ Background() bool })
		if got := ok && b.Background(); got != tc.want {
			t.Errorf("%T is background: %v, want %v", tc.job, got, tc.want)
		}
	}
}
