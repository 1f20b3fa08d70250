package handlers

// deskWorkRoutes registers the routes of issue 11 that make the desk
// faster and the slip complete: the codice fiscale read while typing, the
// list of visits whose reports wait to be published, each member's
// facility and the contacts printed on the slip.
func (h *Handler) deskWorkRoutes(desk, admin *routeGroup) {
	desk.POST("/accept/codice-fiscale", h.readFiscalCode)
	desk.GET("/da-pubblicare", h.visitsToPublish)
	admin.POST("/staff/:id/facility", h.staffSetFacility)
	admin.GET("/slip", h.slipContactsForm)
	admin.POST("/slip", h.saveSlipContacts)
}
