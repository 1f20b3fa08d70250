package db

// Audit actions: every event in the audit log names one of these. The
// values are stored, so they never change; views gives each an Italian label.
const (
	// Staff.
	ActionStaffLogin   = "staff.login"
	ActionStaffLogout  = "staff.logout"
	ActionStaffCreate  = "staff.create"
	ActionStaffEnable  = "staff.enable"
	ActionStaffDisable = "staff.disable"
	// Facilities.
	ActionFacilityCreate  = "facility.create"
	ActionFacilityEnable  = "facility.enable"
	ActionFacilityDisable = "facility.disable"
	// The registry and the desk's reads.
	ActionPatientCreate        = "patient.create"
	ActionPatientContactChange = "patient.contact_change"
	ActionPatientView          = "patient.view"
	ActionPatientSearch        = "patient.search"
	ActionVisitAccept          = "visit.accept"
	ActionVisitView            = "visit.view"
	// Activation codes.
	ActionCodeIssue   = "code.issue"
	ActionCodeReprint = "code.reprint"
	ActionCodeRevoke  = "code.revoke"
	// Reports.
	ActionReportUpload          = "report.upload"
	ActionReportPublish         = "report.publish"
	ActionReportWithdraw        = "report.withdraw"
	ActionReportExpire          = "report.expire"
	ActionReportView            = "report.view"
	ActionReportDownload        = "report.download"
	ActionReportViewOnline      = "report.view_online"
	ActionReportDeleteByPatient = "report.delete_by_patient"
	ActionReportCorrect         = "report.correct"
	ActionReportReplace         = "report.replace"
	// Dossiers.
	ActionDossierActivate     = "dossier.activate"
	ActionDossierEnable       = "dossier.enable"
	ActionDossierDisable      = "dossier.disable"
	ActionDossierReset        = "dossier.reset"
	ActionDossierRevokeOthers = "dossier.revoke_others"
	ActionDossierUnlink       = "dossier.unlink"
	ActionRelativeAdd         = "relative.add"
	ActionRelativeRemove      = "relative.remove"
	// Patient accounts.
	ActionAccountRegister              = "account.register"
	ActionAccountLogin                 = "account.login"
	ActionAccountLoginCode             = "account.login_code"
	ActionAccountLogout                = "account.logout"
	ActionAccountPasswordChange        = "account.password_change"
	ActionAccountResetRequest          = "account.reset_request"
	ActionAccountReauthenticate        = "account.reauthenticate"
	ActionAccountPreferences           = "account.preferences"
	ActionAccountContactChange         = "account.contact_change"
	ActionAccountEmailConfirmationSent = "account.email_confirmation_sent"
	ActionAccountEmailVerified         = "account.email_verified"
	ActionAccountDelete                = "account.delete"
	// SMS codes typed for a registration, a password reset or a new mobile
	// (audited when refused; an accepted one is the register, password or
	// contact change event itself).
	ActionAccountRegisterCode = "account.register_code"
	ActionAccountResetCode    = "account.reset_code"
	ActionAccountContactCode  = "account.contact_code"
	// Integrations.
	ActionIntegrationCreate     = "integration.create"
	ActionIntegrationRevoke     = "integration.revoke"
	ActionIntegrationAuthFailed = "integration.auth_failed"

	// Notifications.
	ActionOutboxRetry = "outbox.retry"
)

// AuditActions lists every audit action, so tests can check that each has a label.
func AuditActions() []string {
	return append([]string{
		ActionStaffLogin, ActionStaffLogout, ActionStaffCreate, ActionStaffEnable, ActionStaffDisable, ActionFacilityCreate,
		ActionFacilityEnable, ActionFacilityDisable, ActionPatientCreate, ActionPatientContactChange, ActionPatientView,
		ActionPatientSearch, ActionVisitAccept, ActionVisitView, ActionCodeIssue, ActionCodeReprint, ActionCodeRevoke,
		ActionReportUpload, ActionReportPublish, ActionReportWithdraw, ActionReportExpire, ActionReportView,
		ActionReportDownload, ActionReportViewOnline, ActionReportDeleteByPatient, ActionReportCorrect, ActionReportReplace, ActionDossierActivate,
		ActionDossierEnable, ActionDossierDisable, ActionDossierReset, ActionDossierRevokeOthers, ActionDossierUnlink,
		ActionRelativeAdd, ActionRelativeRemove, ActionAccountRegister, ActionAccountLogin, ActionAccountLoginCode,
		ActionAccountLogout, ActionAccountPasswordChange, ActionAccountResetRequest, ActionAccountReauthenticate,
		ActionAccountPreferences, ActionAccountContactChange, ActionAccountEmailConfirmationSent, ActionAccountEmailVerified,
		ActionAccountDelete, ActionAccountRegisterCode, ActionAccountResetCode, ActionAccountContactCode, ActionIntegrationCreate, ActionIntegrationRevoke, ActionIntegrationAuthFailed, ActionOutboxRetry,
	}, append(append(factorActions(), patientRightsActions()...), deskActions()...)...)
}

// Audit actions of the Garante's special cases and the patient's further
// rights (issue 10): protected reports, hiding, majority, pickup proof,
// expiry reminders, sharing with a doctor, reports by email.
const (
	ActionVisitProtect       = "visit.protect"
	ActionVisitUnprotect     = "visit.unprotect"
	ActionReportProtect      = "report.protect"
	ActionReportUnprotect    = "report.unprotect"
	ActionReportHide         = "report.hide"
	ActionReportUnhide       = "report.unhide"
	ActionDossierMajority    = "dossier.majority"
	ActionReportPaperPickup  = "report.paper_pickup"
	ActionUncollectedList    = "report.uncollected_list"
	ActionReportExpiryNotice = "report.expiry_notice"
	ActionShareCreate        = "share.create"
	ActionShareRevoke        = "share.revoke"
	ActionShareOpen          = "share.open"
	ActionShareView          = "share.view"
	ActionShareDownload      = "share.download"
	ActionEmailDeliveryOn    = "dossier.email_delivery_on"
	ActionEmailDeliveryOff   = "dossier.email_delivery_off"
	ActionReportEmailed      = "report.emailed"
)

// patientRightsActions lists the actions above, for AuditActions.
func patientRightsActions() []string {
	return []string{
		ActionVisitProtect, ActionVisitUnprotect, ActionReportProtect, ActionReportUnprotect, ActionReportHide, ActionReportUnhide,
		ActionDossierMajority, ActionReportPaperPickup, ActionUncollectedList, ActionReportExpiryNotice, ActionShareCreate,
		ActionShareRevoke, ActionShareOpen, ActionShareView, ActionShareDownload, ActionEmailDeliveryOn, ActionEmailDeliveryOff,
		ActionReportEmailed,
	}
}
