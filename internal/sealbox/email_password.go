package sealbox

// ReportEmailPassword is the password a patient chose for the reports of a
// dossier sent by email: sealed, because encrypting each PDF needs it.
const ReportEmailPassword Purpose = "report-email-password"
