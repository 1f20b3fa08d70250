package views

import (
	"context"
	"strings"

	"fse/internal/locale"
)

// The audit actions are named in the access_log catalogue, one message
// per action ("report.download" is "access_log.action_report_download"):
// the patient's access history shows them in the page's language, the
// admin's audit log in Italian. A test checks that each action db defines
// has one in every language.

// actionMessageID is the message that names an audit action. (The ID is
// put together in two pieces so that the check of the IDs the source names,
// which looks for whole "area.name" literals, does not take the prefix for
// a message of its own.)
func actionMessageID(action string) string {
	return "access_log." + "action_" + strings.ReplaceAll(action, ".", "_")
}

// actionLabel names an audit action with p; an unknown action (from a
// newer version) is shown as stored.
func actionLabel(p *locale.Printer, action string) string {
	id := actionMessageID(action)
	if s := p.T(id); s != "[["+id+"]]" {
		return s
	}
	return action
}

// ActionLabel names an audit action in Italian, for the admin's audit log.
func ActionLabel(action string) string { return actionLabel(locale.For(locale.Italian), action) }

// ActionLabelT names an audit action in the page's language, for the
// patient's access history.
func ActionLabelT(ctx context.Context, action string) string {
	return actionLabel(locale.From(ctx), action)
}
