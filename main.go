// Command fse is a self-hosted portal that delivers medical reports to
// patients: one binary, one SQLite file. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// exitUsage is the exit code for a bad command line.
const exitUsage = 2

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env env) error
}

// env is the process environment a command sees; tests replace it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	// ready, when set, receives the listening address once a server is up.
	ready func(addr string)
}

func commands() []command {
	return []command{
		{"serve", "run the portal (production)", cmdServe},
		{"demo", "run the portal on 127.0.0.1:8080 over a fresh copy of fse.db.example", cmdDemo},
		{"migrate", "create or upgrade the database schema", cmdMigrate},
		{"staff", "manage staff accounts: staff add|set-password|reset-mfa --username U", cmdStaff},
		{"backup", "write a consistent copy of the database: backup DEST", cmdBackup},
		{"restore", "put a backup or a replica in place of the database (the server stopped): restore BACKUP, restore --from URL", cmdRestore},
		{"jobs", "run a scheduled job now: jobs run NAME", cmdJobs},
		{"integration", "manage the clinic systems that deliver: integration add|list|revoke", cmdIntegration},
		{"import", "import a hot folder of report PDFs once: import DIR --integration NAME", cmdImport},
		{"example-db", "rebuild fse.db.example from code (migrate, seed, VACUUM)", cmdExampleDB},
		{"doctor", "check a deployment (takes the flags of serve) and print what to fix", cmdDoctor},
		{"version", "print the version, commit, build date, Go version and schema version", cmdVersion},
	}
}

// usageError is a command-line mistake: printed with a hint, exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	return runEnv(ctx, args, e)
}

func runEnv(ctx context.Context, args []string, e env) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], e)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "fse %s: %s\nRun 'fse %s --help' for usage.\n", c.name, ue.msg, c.name)
			return exitUsage
		default:
			fmt.Fprintf(e.stderr, "fse %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "fse: unknown command %q\n", args[0])
	printUsage(e.stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: fse COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set with an FSE_* environment variable (--db -> FSE_DB).")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, usage string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: fse %s\n\nFlags (each also read from FSE_<NAME>):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from its FSE_* environment variable.
func parseFlags(fs *flag.FlagSet, args []string, e env) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "FSE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(name); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = usagef("invalid value %q for %s: %v", v, name, serr)
			}
		}
	})
	return err
}
