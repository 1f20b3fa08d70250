package views

import "context"

// The help page ("Domande frequenti"): its questions and answers, kept
// here as data so that pages, errors and the slip link to a question by
// its anchor. The words are in the catalogue (area "help"), in Italian
// (the patient is addressed with "Lei") and English.

// Anchors of the help page's questions, for links from errors and pages.
const (
	HelpNoReport  = "referto-non-visibile"
	HelpMobile    = "cellulare"
	HelpLostSlip  = "modulo-perso"
	HelpCodes     = "codici-scaduti"
	HelpRelatives = "familiari"
	HelpDeletion  = "cancellazione"
	HelpPaper     = "ritiro-su-carta"
	HelpPassword  = "password-dimenticata"
)

// HelpPath is the help page's address.
const HelpPath = "/aiuto"

// HelpURL is the address of one question of the help page.
func HelpURL(anchor string) string { return HelpPath + "#" + anchor }

// HelpLink is a link an answer offers ("go and do it").
type HelpLink struct {
	Href, Text string
}

// HelpTopic is one question of the help page with its answer.
type HelpTopic struct {
	Anchor   string
	Question string
	Answer   []string
	Links    []HelpLink
}

// HelpTopics are the help page's questions, in the order a patient who is
// stuck asks them, in the page's language. retentionDays is how long
// reports stay online.
func HelpTopics(ctx context.Context, retentionDays int) []HelpTopic {
	t := func(id string) string { return T(ctx, id) }
	return []HelpTopic{
		{Anchor: HelpNoReport, Question: t("help.no_report_q"), Answer: []string{
			t("help.no_report_1"), t("help.no_report_2"), t("help.no_report_3"), TN(ctx, "help.no_report_4", retentionDays),
		}, Links: []HelpLink{{"/attiva", t("help.no_report_link")}}},
		{Anchor: HelpMobile, Question: t("help.mobile_q"), Answer: []string{
			t("help.mobile_1"), t("help.mobile_2"), t("help.mobile_3"),
		}},
		{Anchor: HelpLostSlip, Question: t("help.lost_slip_q"), Answer: []string{
			t("help.lost_slip_1"), t("help.lost_slip_2"), t("help.lost_slip_3"),
		}},
		{Anchor: HelpCodes, Question: t("help.codes_q"), Answer: []string{
			t("help.codes_1"), t("help.codes_2"), t("help.codes_3"), t("help.codes_4"),
		}},
		{Anchor: HelpRelatives, Question: t("help.relatives_q"), Answer: []string{
			t("help.relatives_1"), t("help.relatives_2"), t("help.relatives_3"),
		}, Links: []HelpLink{{"/profilo/familiari", t("help.relatives_link")}}},
		{Anchor: HelpDeletion, Question: t("help.deletion_q"), Answer: []string{
			t("help.deletion_1"), t("help.deletion_2"), t("help.deletion_3"),
		}, Links: []HelpLink{{"/profilo", t("help.deletion_link")}}},
		{Anchor: HelpPaper, Question: t("help.paper_q"), Answer: []string{
			t("help.paper_1"), t("help.paper_2"),
		}},
		{Anchor: HelpPassword, Question: t("help.password_q"), Answer: []string{
			t("help.password_1"),
		}, Links: []HelpLink{{"/password-dimenticata", t("help.password_link")}}},
	}
}

// helpQuestion is the question of the topic at anchor, for a link's text;
// the help page's title for an unknown anchor.
func helpQuestion(ctx context.Context, anchor string) string {
	for _, t := range HelpTopics(ctx, 0) {
		if t.Anchor == anchor {
			return t.Question
		}
	}
	return T(ctx, "help.title")
}

// HelpPage is the help page.
type HelpPage struct {
	PChrome
}

// Topics are the page's questions in its language, with the portal's
// retention.
func (p HelpPage) Topics(ctx context.Context) []HelpTopic { return HelpTopics(ctx, p.RetentionDays) }

// HelpAddress is the help page's full address, printed on the slip.
func (p SlipPage) HelpAddress() string { return p.PortalURL + HelpPath }
