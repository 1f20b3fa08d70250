package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"fse/db"
	"fse/internal/pwpolicy"
)

// fse staff: add a member, set a member's password, reset a member's
// second factors. The last two are the way back in for an admin locked
// out (the phone lost, the password forgotten) when no other admin is.

const staffUsage = `Usage: fse staff add --username U --role admin|reception --password-stdin [--name N] [--db FILE]
       fse staff set-password --username U --password-stdin [--db FILE]
       fse staff reset-mfa --username U [--db FILE]

Run 'fse staff SUBCOMMAND --help' for the flags.`

func cmdStaff(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(e.stderr, staffUsage)
		return flag.ErrHelp
	}
	if len(args) == 0 {
		return usagef("want: fse staff add|set-password|reset-mfa --username U")
	}
	switch args[0] {
	case "add":
		return cmdStaffAdd(ctx, args[1:], e)
	case "set-password":
		return cmdStaffSetPassword(ctx, args[1:], e)
	case "reset-mfa":
		return cmdStaffResetMFA(ctx, args[1:], e)
	}
	return usagef("unknown subcommand %q: want add, set-password or reset-mfa", args[0])
}

// cliActor is the audit identity of a staff command.
func cliActor(name string) db.Actor { return db.Actor{Kind: db.ActorCLI, Name: name} }

func cmdStaffAdd(ctx context.Context, args []string, e env) error {
	fs := newFlags("staff add", "staff add --username U --role admin|reception --password-stdin [--name N] [--db FILE]", e)
	path := dbFlag(fs)
	var username, role, name string
	var fromStdin bool
	fs.StringVar(&username, "username", "", "login name (letters, digits, . _ -)")
	fs.StringVar(&role, "role", "", "admin or reception")
	fs.StringVar(&name, "name", "", "full name shown in the staff list")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	switch {
	case !db.ValidUsername(username):
		return usagef("--username must be 2-40 letters, digits, '.', '_' or '-', got %q", username)
	case role != db.RoleAdmin && role != db.RoleReception:
		return usagef("--role must be admin or reception, got %q", role)
	}
	pw, err := readStaffPassword(fromStdin, e, username, name)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	hash, err := hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	id, err := d.CreateStaff(ctx, db.Staff{Username: username, DisplayName: name, Role: role, PasswordHash: hash},
		cliActor("fse staff add"), time.Now())
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("a staff member called %q already exists", username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "staff member %q (%s) created with id %d\n", username, role, id)
	return nil
}

func cmdStaffSetPassword(ctx context.Context, args []string, e env) error {
	fs := newFlags("staff set-password", "staff set-password --username U --password-stdin [--db FILE]", e)
	path := dbFlag(fs)
	var username string
	var fromStdin bool
	fs.StringVar(&username, "username", "", "the member's login name")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the new password from the first line of standard input (required)")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if username == "" {
		return usagef("--username is required")
	}
	d, st, err := openStaff(ctx, *path, username)
	if err != nil {
		return err
	}
	defer d.Close()
	pw, err := readStaffPassword(fromStdin, e, st.Username, st.DisplayName)
	if err != nil {
		return err
	}
	hash, err := hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	if err := d.SetStaffPassword(ctx, st.ID, hash, cliActor("fse staff set-password"), time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of %q set; their open sessions have ended\n", st.Username)
	return nil
}

func cmdStaffResetMFA(ctx context.Context, args []string, e env) error {
	fs := newFlags("staff reset-mfa", "staff reset-mfa --username U [--db FILE]", e)
	path := dbFlag(fs)
	var username string
	fs.StringVar(&username, "username", "", "the member's login name")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if username == "" {
		return usagef("--username is required")
	}
	d, st, err := openStaff(ctx, *path, username)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.ResetStaffFactors(ctx, st.ID, cliActor("fse staff reset-mfa"), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "second factors of %q reset (%d apps or passkeys and the recovery codes removed); "+
		"their open sessions have ended, and they set up a second factor again at their next login\n", st.Username, n)
	return nil
}

// openStaff opens the database (which must exist) and finds the member.
func openStaff(ctx context.Context, path, username string) (*db.DB, db.Staff, error) {
	ok, err := db.HasSchema(ctx, path)
	if err != nil {
		return nil, db.Staff{}, err
	}
	if !ok {
		return nil, db.Staff{}, fmt.Errorf("%s is not an fse database (use --db)", path)
	}
	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		return nil, db.Staff{}, err
	}
	st, err := d.StaffByUsername(ctx, username)
	if errors.Is(err, db.ErrNotFound) {
		d.Close()
		return nil, db.Staff{}, fmt.Errorf("no staff member called %q", username)
	}
	if err != nil {
		d.Close()
		return nil, db.Staff{}, err
	}
	return d, st, nil
}

// readStaffPassword reads the password from the first line of standard
// input and applies the staff password policy (the member's username and
// name count as easy guesses).
func readStaffPassword(fromStdin bool, e env, userInputs ...string) (string, error) {
	if !fromStdin {
		return "", usagef("--password-stdin is required: passwords are never taken from the command line")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("no password on standard input")
	}
	pw := strings.TrimRight(line, "\r\n")
	var weak *pwpolicy.Problem
	if err := pwpolicy.CheckStaff(pw, userInputs...); errors.As(err, &weak) {
		return "", usagef("%s", weak.English())
	} else if err != nil {
		return "", err
	}
	return pw, nil
}

func hashPassword(ctx context.Context, pw string) (string, error) {
	hasher, err := newHasher()
	if err != nil {
		return "", err
	}
	return hasher.Hash(ctx, pw)
}
