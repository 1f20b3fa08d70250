package views

import "strconv"

// The help page ("Domande frequenti"): its questions and answers, kept
// here as data so that pages, errors and the slip link to a question by
// its anchor, and a translation changes one file. The patient is
// addressed with "Lei", as everywhere.

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

// HelpTitle is the help page's title and the header's link to it.
const HelpTitle = "Domande frequenti"

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
// stuck asks them. retentionDays is how long reports stay online.
func HelpTopics(retentionDays int) []HelpTopic {
	days := strconv.Itoa(retentionDays)
	return []HelpTopic{
		{Anchor: HelpNoReport, Question: "Perché non vedo il mio referto?", Answer: []string{
			"Il referto compare nel fascicolo solo quando è pronto: per alcuni esami servono diversi giorni. Quando è pronto le inviamo un SMS (o un'email, se l'ha scelta in «Il mio profilo»).",
			"Prima deve attivare il fascicolo, una volta sola, con il codice fiscale e il codice di attivazione stampato sul modulo per il ritiro referti. Da quel momento vede anche i referti delle prestazioni successive.",
			"Se in «Il mio fascicolo» legge che il servizio online è disattivato, il referto è consegnato solo su carta. Anche alcuni referti riservati sono consegnati solo su carta.",
			"Ogni referto resta online al massimo " + days + " giorni dalla pubblicazione, poi viene cancellato dal portale: resta ritirabile su carta.",
		}, Links: []HelpLink{{"/attiva", "Attivi il fascicolo"}}},
		{Anchor: HelpMobile, Question: "Quale numero di cellulare devo usare?", Answer: []string{
			"Lo stesso numero di cellulare che ha dato allo sportello in accettazione: sul modulo per il ritiro referti sono stampate le sue ultime cifre.",
			"Il codice di verifica arriva via SMS a quel numero, e il fascicolo si attiva solo se il cellulare del suo account è quello dato allo sportello.",
			"Se il numero è cambiato, chieda allo sportello della struttura di correggerlo, oppure cambi il cellulare del suo account in «Il mio profilo».",
		}},
		{Anchor: HelpLostSlip, Question: "Ho perso il modulo per il ritiro referti: che cosa faccio?", Answer: []string{
			"Il codice di attivazione è stampato solo sul modulo e non è conservato da nessuna parte: nemmeno lo sportello può leggerlo.",
			"Si rivolga allo sportello della struttura con un documento d'identità: ristamperà il modulo con un nuovo codice. Il codice di prima non varrà più.",
			"Se ha già attivato il fascicolo, non le serve un nuovo codice: i nuovi referti compaiono da soli.",
		}},
		{Anchor: HelpCodes, Question: "Il codice non funziona o è scaduto", Answer: []string{
			"Il codice ricevuto via SMS vale pochi minuti (la pagina in cui lo scrive dice quanti) e una volta sola. Se è scaduto, chieda un nuovo codice con il pulsante «Invia un nuovo codice».",
			"Il codice di attivazione del modulo vale fino alla data stampata accanto al codice, e una volta sola. Se è scaduto, già usato o sostituito da una ristampa, chieda allo sportello un nuovo modulo.",
			"Scriva il codice di attivazione come è stampato: lettere e cifre. Trattini, spazi e lettere minuscole vanno bene.",
			"Dopo 5 tentativi sbagliati l'attivazione si blocca per 15 minuti, per sicurezza: attenda e riprovi.",
		}},
		{Anchor: HelpRelatives, Question: "Come vedo i referti di un familiare?", Answer: []string{
			"In «Il mio profilo» scelga «Familiari», aggiunga il familiare (per esempio un figlio o un genitore) con i suoi dati, poi attivi il suo fascicolo con il codice del modulo per il ritiro referti del familiare.",
			"Questo funziona solo se in accettazione il familiare ha dato il suo stesso numero di cellulare. Altrimenti il familiare ha bisogno di un suo account, registrato con i propri dati e con il proprio cellulare.",
			"Al compimento dei 18 anni il figlio gestisce da solo il proprio fascicolo, e l'accesso dei genitori termina.",
		}, Links: []HelpLink{{"/profilo/familiari", "Familiari"}}},
		{Anchor: HelpDeletion, Question: "Come cancello i miei referti o il mio account?", Answer: []string{
			"In «Il mio fascicolo» può eliminare un referto, oppure, in «Gestisci questo fascicolo», azzerare lo storico o disattivare il servizio online.",
			"In «Il mio profilo» può eliminare il suo account: i referti online dei fascicoli che nessun altro account gestisce sono cancellati.",
			"I referti restano sempre ritirabili su carta. Il registro degli accessi al fascicolo è conservato per almeno 24 mesi, come chiede la legge.",
		}, Links: []HelpLink{{"/profilo", "Il mio profilo"}}},
		{Anchor: HelpPaper, Question: "Posso ritirare il referto su carta?", Answer: []string{
			"Sì, sempre. Il servizio online è facoltativo: se non lo usa, o se lo disattiva, le cure che riceve non cambiano in alcun modo.",
			"Per il ritiro su carta si rivolga alla struttura con il modulo per il ritiro referti.",
		}},
		{Anchor: HelpPassword, Question: "Ho dimenticato la password", Answer: []string{
			"Nella pagina «Accedi» scelga «Password dimenticata?»: le inviamo via SMS un codice per scegliere una nuova password.",
		}, Links: []HelpLink{{"/password-dimenticata", "Password dimenticata"}}},
	}
}

// helpQuestion is the question of the topic at anchor, for a link's text.
func helpQuestion(anchor string) string {
	for _, t := range HelpTopics(0) {
		if t.Anchor == anchor {
			return t.Question
		}
	}
	return HelpTitle
}

// HelpDescription is the help page's meta description.
const HelpDescription = "Domande frequenti su Referti online: perché non vede un referto, quale cellulare usare, modulo perso, codici scaduti, familiari, cancellazione e ritiro su carta."

// LandingDescription is the home page's meta description.
const LandingDescription = DefaultDescription

// HelpPage is the help page.
type HelpPage struct {
	PChrome
}

// Topics are the page's questions, with the portal's retention.
func (p HelpPage) Topics() []HelpTopic { return HelpTopics(p.RetentionDays) }

// HelpAddress is the help page's full address, printed on the slip.
func (p SlipPage) HelpAddress() string { return p.PortalURL + HelpPath }
