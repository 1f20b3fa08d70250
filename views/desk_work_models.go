package views

import (
	"strconv"
	"time"

	"fse/db"
)

// ToPublishPage lists a facility's visits whose reports wait to be
// published (the desk's list "da pubblicare").
type ToPublishPage struct {
	Chrome
	Facilities []db.Facility
	FacilityID int64
	Visits     []db.VisitToPublish
	Now        time.Time
}

// SlipContactsPage is the admin's form for what the pickup slip prints.
type SlipContactsPage struct {
	Chrome
	Form Form
	// Saved is what the slips print now.
	Saved db.SlipContacts
}

// MaskedMobile is the mobile registered at the desk with only its last
// four digits: activation works only from that number, and the slip may
// get lost.
func (p SlipPage) MaskedMobile() string { return MaskMobile(p.Patient.Mobile) }

// CodeExpires is the day the printed activation code stops working.
func (p SlipPage) CodeExpires() string { return Date(p.Visit.CodeExpiresAt) }

// HelpContacts reports whether the slip has any help contact to print.
func (p SlipPage) HelpContacts() bool {
	return p.Contacts.HelpPhone != "" || p.Contacts.HelpEmail != ""
}

// MemberFacility returns the id, as the form sends it, of member s's
// facility; "0" for none.
func (p StaffPage) MemberFacility(s db.Staff) string {
	return strconv.FormatInt(p.FacilityOf[s.ID], 10)
}

// ReportCount says how many reports, in Italian.
func ReportCount(n int) string { return Count(n, "referto", "referti") }

// lastDigits returns the last n digits of s, skipping anything else; false
// when s has no more than n digits.
func lastDigits(s string, n int) (string, bool) {
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	if len(d) <= n {
		return "", false
	}
	return string(d[len(d)-n:]), true
}

// UploadRowError is the error of row i's file in the last upload; "" when
// the row was fine or empty.
func UploadRowError(f Form, i int) string { return f.Errors["file"+strconv.Itoa(i)] }
