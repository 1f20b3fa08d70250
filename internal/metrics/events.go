package metrics

import (
	"fse/db"
)

// loginSteps maps the audit actions of a login to their realm and step.
var loginSteps = map[string][2]string{
	db.ActionStaffLogin:          {"staff", "password"},
	db.ActionStaffSecondFactor:   {"staff", "second_factor"},
	db.ActionAccountLogin:        {"patient", "password"},
	db.ActionAccountLoginCode:    {"patient", "second_factor"},
	db.ActionAccountSecondFactor: {"patient", "second_factor"},
}

// reportEvents maps the audit actions of a report's life, when they
// succeed, to their counter (and its label, if any).
var reportEvents = map[string]series{
	db.ActionReportPublish:         seriesOf0(published),
	db.ActionReportCorrect:         seriesOf0(corrected),
	db.ActionReportDownload:        seriesOf1(downloaded, "patient"),
	db.ActionReportViewOnline:      seriesOf1(downloaded, "patient"),
	db.ActionReportView:            seriesOf1(downloaded, "staff"),
	db.ActionReportExpire:          seriesOf0(expired),
	db.ActionReportWithdraw:        seriesOf0(withdrawn),
	db.ActionReportDeleteByPatient: seriesOf0(deletedByPatient),
}

// knownActions keeps the action label to the actions fse writes.
var knownActions = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range db.AuditActions() {
		m[a] = true
	}
	return m
}()

// countersOf says which counters a count of audit events adds to: none for
// the events no metric follows.
func countersOf(c db.AuditCount) []series {
	outcome := c.Outcome
	if outcome != db.OutcomeOK && outcome != db.OutcomeFailed && outcome != db.OutcomeDenied {
		outcome = "other"
	}
	action := c.Action
	if !knownActions[action] {
		action = "other"
	}
	var out []series
	if rs, ok := loginSteps[c.Action]; ok {
		out = append(out, seriesOf3(logins, rs[0], rs[1], outcome))
	}
	if c.LockedOut {
		out = append(out, seriesOf1(lockedOut, action))
	}
	if s, ok := reportEvents[c.Action]; ok && outcome == db.OutcomeOK {
		out = append(out, s)
	}
	if c.ActorKind == db.ActorIntegration {
		out = append(out, seriesOf2(intake, action, outcome))
	}
	return out
}
