package handlers

import "github.com/labstack/echo/v4"

// patientRightsDeskRoutes registers the desk's routes of issue 10:
// protected reports, the pickup proof, the list of reports not collected.
func (h *Handler) patientRightsDeskRoutes(desk *routeGroup) {
	desk.POST("/visits/:id/protected", h.setVisitProtected)
	desk.POST("/documents/:id/protected", h.setDocumentProtected)
	desk.POST("/documents/:id/pickup", h.recordPaperPickup)
	desk.GET("/uncollected", h.uncollected)
}

// patientRightsRoutes registers the patient's routes of issue 10: hiding
// a report from relatives, sharing with a doctor, reports by email.
func (h *Handler) patientRightsRoutes(pub *routeGroup, auth, codeLimit echo.MiddlewareFunc) {
	pub.POST("/fascicolo/referti/:id/nascondi", h.hideReport(true), auth)
	pub.POST("/fascicolo/referti/:id/mostra", h.hideReport(false), auth)

	pub.GET("/fascicolo/:id/condividi", h.shareForm, auth)
	pub.POST("/fascicolo/:id/condividi", h.createShare, auth)
	pub.GET("/fascicolo/condivisioni", h.shares, auth)
	pub.POST("/fascicolo/condivisioni/:id/revoca", h.revokeShare, auth)
	// The doctor's side: no account, a share code and the birth date.
	pub.GET("/condivisi", h.doctorForm)
	pub.POST("/condivisi", h.doctorOpen, codeLimit)
	pub.GET("/condivisi/referti", h.doctorReports)
	pub.GET("/condivisi/referti/:id", h.doctorDownload("attachment"))
	pub.GET("/condivisi/referti/:id/apri", h.doctorDownload("inline"))
	pub.POST("/condivisi/esci", h.doctorExit)

	pub.GET("/fascicolo/:id/email", h.emailDeliveryForm, auth)
	pub.POST("/fascicolo/:id/email", h.startEmailDelivery, auth)
	pub.POST("/fascicolo/:id/email/disattiva", h.stopEmailDelivery, auth)
}
