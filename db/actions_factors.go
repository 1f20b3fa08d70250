package db

// Audit actions of second factors (authenticator apps, recovery codes) and
// of the staff's credentials. Like every action they are stored, so they
// never change; views gives each an Italian label.
const (
	// Staff.
	ActionStaffSecondFactor     = "staff.second_factor"
	ActionStaffFactorAdd        = "staff.factor_add"
	ActionStaffFactorRemove     = "staff.factor_remove"
	ActionStaffRecoveryCodes    = "staff.recovery_codes"
	ActionStaffRecoveryCodeUsed = "staff.recovery_code_used"
	ActionStaffFactorsReset     = "staff.factors_reset"
	ActionStaffPasswordSet      = "staff.password_set"
	ActionStaffReauthenticate   = "staff.reauthenticate"
	// Patient accounts.
	ActionAccountSecondFactor     = "account.second_factor"
	ActionAccountFactorAdd        = "account.factor_add"
	ActionAccountFactorRemove     = "account.factor_remove"
	ActionAccountRecoveryCodes    = "account.recovery_codes"
	ActionAccountRecoveryCodeUsed = "account.recovery_code_used"
)

// factorActions lists the actions above, for AuditActions.
func factorActions() []string {
	return []string{
		ActionStaffSecondFactor, ActionStaffFactorAdd, ActionStaffFactorRemove, ActionStaffRecoveryCodes,
		ActionStaffRecoveryCodeUsed, ActionStaffFactorsReset, ActionStaffPasswordSet, ActionStaffReauthenticate, ActionAccountSecondFactor,
		ActionAccountFactorAdd, ActionAccountFactorRemove, ActionAccountRecoveryCodes, ActionAccountRecoveryCodeUsed,
	}
}
