package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"fse/db"
	"fse/internal/intake"
)

const integrationUsage = `fse integration add --name NAME --facility CODE [--scope visits,reports] [--allow-cidr CIDR,...] [--auto-publish] [--mllp]
       fse integration list
       fse integration revoke NAME
(each also takes --db FILE)`

// cmdIntegration manages the clinic systems allowed to deliver to fse.
func cmdIntegration(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(e.stderr, "Usage: "+integrationUsage)
		if len(args) == 0 {
			return usagef("want a subcommand: add, list or revoke")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "add":
		return integrationAdd(ctx, args[1:], e)
	case "list":
		return integrationList(ctx, args[1:], e)
	case "revoke":
		return integrationRevoke(ctx, args[1:], e)
	}
	return usagef("unknown subcommand %q: want add, list or revoke", args[0])
}

func integrationAdd(ctx context.Context, args []string, e env) error {
	fs := newFlags("integration add", "integration add --name NAME --facility CODE [flags]", e)
	path := dbFlag(fs)
	var in intake.IntegrationInput
	var facility string
	fs.StringVar(&in.Name, "name", "", "name shown in the audit log and to patients (e.g. \"Laboratorio analisi\")")
	fs.StringVar(&facility, "facility", "", "code of the facility the integration delivers for (e.g. MN)")
	fs.StringVar(&in.Scopes, "scope", "visits,reports", "what the token may do: visits, reports or both")
	fs.StringVar(&in.AllowCIDRs, "allow-cidr", "", "comma-separated networks the integration connects from (default: any)")
	fs.BoolVar(&in.AutoPublish, "auto-publish", false, "publish at once what arrives through the hot folder")
	fs.BoolVar(&in.MLLP, "mllp", false, "accept HL7 v2 over MLLP from --allow-cidr (the network is then its only credential)")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	i, problems := intake.CheckIntegration(in)
	if len(problems) > 0 {
		return usagef("--%s: %s", problems[0].Field, problems[0].EN)
	}
	if facility == "" {
		return usagef("--facility is required")
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	f, err := d.FacilityByCode(ctx, facility)
	if errors.Is(err, db.ErrNotFound) || err == nil && !f.Active {
		return usagef("no active facility with code %q", facility)
	} else if err != nil {
		return err
	}
	i.FacilityID = f.ID
	token, err := intake.CreateIntegration(ctx, d, i, db.Actor{Kind: db.ActorCLI, Name: "fse integration add"}, time.Now())
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("an integration called %q already exists", i.Name)
	} else if errors.Is(err, db.ErrMLLPNetworks) {
		return usagef("--allow-cidr overlaps the networks of another MLLP integration: each connection must map to one integration")
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "integration %q created for %s (%s), scopes %s, networks %s.\n\n", i.Name, f.Code, f.Name,
		strings.Join(i.Scopes, ","), orAny(strings.Join(i.AllowCIDRs, ",")))
	if i.MLLP {
		fmt.Fprintf(e.stdout, "HL7 over MLLP is accepted from %s with no other credential: keep those hosts firewalled.\n\n",
			strings.Join(i.AllowCIDRs, ","))
	}
	fmt.Fprintf(e.stdout, "Its token, shown only now (fse keeps only a hash of it):\n\n    %s\n\n", token)
	fmt.Fprintln(e.stdout, "Give it to the system's administrator over a safe channel; send it as: Authorization: Bearer <token>")
	return nil
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

func integrationList(ctx context.Context, args []string, e env) error {
	fs := newFlags("integration list", "integration list [--db FILE]", e)
	path := dbFlag(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := d.Integrations(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no integrations")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFACILITY\tSCOPES\tNETWORKS\tMLLP\tAUTO-PUBLISH\tLAST USED\tSTATE")
	for _, i := range list {
		state, used := "active", "never"
		if i.Revoked() {
			state = "revoked " + i.RevokedAt.UTC().Format(time.DateOnly)
		}
		if !i.LastUsedAt.IsZero() {
			used = i.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v\t%s\t%s\n", i.Name, i.FacilityCode, strings.Join(i.Scopes, ","),
			orAny(strings.Join(i.AllowCIDRs, ",")), i.MLLP, i.AutoPublish, used, state)
	}
	return w.Flush()
}

func integrationRevoke(ctx context.Context, args []string, e env) error {
	fs := newFlags("integration revoke", "integration revoke NAME [--db FILE]", e)
	path := dbFlag(fs)
	// The name may come before the flags, as people type it.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if name == "" || fs.NArg() > 0 {
		return usagef("want exactly one integration name")
	}
	d, err := db.Open(ctx, *path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	i, err := d.IntegrationByName(ctx, name)
	if errors.Is(err, db.ErrNotFound) {
		return usagef("no integration called %q", name)
	} else if err != nil {
		return err
	}
	if err := d.RevokeIntegration(ctx, i.ID, db.Actor{Kind: db.ActorCLI, Name: "fse integration revoke"}, time.Now()); errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("integration %q was already revoked", i.Name)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "integration %q revoked: its token stops working at once.\n", i.Name)
	return nil
}
