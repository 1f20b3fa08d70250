package views

import (
	"context"
	"strings"

	"fse/internal/locale"
)

// The audit actions are named in the access_log catalogue, one message
// per action ("report.download" is "access_log.action_report_download"):
// the patient's access history and the admin's audit log show them in the
// page's language (the desk's is Italian). A test checks that each action db defines
// has one in every language.

// actionMessageID is the message that names an audit action. (The ID is
// put together in two pieces so that the check of the IDs the source names,
// which looks for whole "area.name" literals, does not take the prefix for
// a message of its own.)
func actionMessageID(action string) string {
	return "access_log." + "action_" + strings.ReplaceAll(action, ".", "_")
}

// ActionLabelT names an audit action in the page's language: the patient's
// access history, and the admin's audit log (the desk's pages are Italian).
// An unknown action (from a newer version) is shown as stored.
func ActionLabelT(ctx context.Context, action string) string {
	if s, ok := locale.From(ctx).Lookup(actionMessageID(action)); ok {
		return s
	}
	return action
}
