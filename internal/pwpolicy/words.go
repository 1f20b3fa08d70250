package pwpolicy

// italianWords are guesses an attacker targeting Italian patients of this
// portal would try early, but which zxcvbn-go's English-centric lists rank
// low or miss: the portal's own vocabulary, football clubs, affectionate
// words, keyboard and digit runs, and the commonest Italian first names.
// They are passed to zxcvbn after the person's own data, so their position is
// their rank: earlier entries are treated as likelier guesses. Entries are
// lower case and unaccented, like the folded password they are compared with.
var italianWords = []string{
	// Generic and keyboard guesses seen in every Italian leak.
	"password", "password123", "passw0rd", "1234567890", "0123456789",
	"qwertyuiop", "asdfghjkl", "ciao", "ciaociao", "ciaone", "amore",
	"tiamo", "tiamotanto", "cambiami", "segreto",
	// The portal, the health service and the place.
	"referti", "referto", "fascicolo", "fse", "salute", "sanita",
	"sanitaria", "ospedale", "clinica", "medico", "dottore", "mantova",
	"lombardia", "italia", "carlopoma",
	// Football and politics.
	"juventus", "juve", "forzajuve", "inter", "forzainter", "milan",
	"forzamilan", "napoli", "forzanapoli", "roma", "forzaroma", "lazio",
	"forzaitalia",
	// Family and everyday words.
	"mamma", "papa", "nonna", "nonno", "famiglia", "tesoro", "cuore",
	"stella", "principessa", "estate", "mare", "sole", "calcio",
	// Common Italian first names.
	"giuseppe", "maria", "giovanni", "anna", "francesco", "rosa",
	"antonio", "angela", "mario", "luca", "marco", "giulia", "francesca",
	"alessandro", "andrea", "paola", "laura", "roberto", "giuseppina",
	"luigi", "salvatore", "giorgio", "stefano", "paolo", "sofia",
	"chiara", "elena", "lucia", "franco", "bruno",
}
