package pwpolicy

import "unicode/utf8"

// MinStaffLength is the shortest staff password, in code points after
// NFKC: staff accounts reach every patient's data, so they get two more
// characters than patients.
const MinStaffLength = 12

const reasonStaffTooShort = "La password deve avere almeno 12 caratteri."

// CheckStaff is Check for a staff member's password: at least
// MinStaffLength characters, and not easy to guess from the usual lists,
// patterns or the member's own data (username, name) in userInputs.
func CheckStaff(pw string, userInputs ...string) error {
	if len(pw) <= maxRawBytes && utf8.RuneCountInString(Normalize(pw)) < MinStaffLength {
		return &Problem{Reason: reasonStaffTooShort}
	}
	return Check(pw, userInputs...)
}

// english are the refusals in English, for operators at the command line.
var english = map[string]string{
	reasonTooShort:      "the password must be at least 10 characters",
	reasonStaffTooShort: "the password must be at least 12 characters",
	reasonTooLong:       "the password must be at most 128 characters",
	reasonCommon:        "the password is a common one or easy to guess: choose a less predictable one, e.g. a sentence of three or four words",
	reasonPersonal:      "the password contains the person's name or other own data, which are easy to guess",
	reasonRepeat:        "the password contains repetitions (such as \"aaaa\" or \"abcabc\") that are easy to guess",
	reasonSequence:      "the password contains a sequence (such as \"abcd\" or \"1234\") that is easy to guess",
	reasonSpatial:       "the password contains a row of neighbouring keys, easy to guess",
	reasonDate:          "the password contains a date, easy to guess",
	reasonGeneric:       "the password is too easy to guess: use a sentence of several words",
}

// English returns the refusal in English, for messages to operators.
func (p *Problem) English() string {
	if s, ok := english[p.Reason]; ok {
		return s
	}
	return "the password is refused by the password policy"
}
