package db

// Audit actions of the desk's defaults, lists and the slip's contacts
// (issue 11).
const (
	ActionStaffFacility = "staff.facility"
	ActionSlipContacts  = "settings.slip_contacts"
	ActionDraftsList    = "report.drafts_list"
)

// deskActions lists the actions above, for AuditActions.
func deskActions() []string {
	return []string{ActionStaffFacility, ActionSlipContacts, ActionDraftsList}
}
