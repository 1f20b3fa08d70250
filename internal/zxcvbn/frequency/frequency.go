// Package frequency is github.com/ccojocar/zxcvbn-go/frequency v1.0.4 with
// its word lists read when asked for instead of in init (see ../README.md).
package frequency

import (
	"encoding/json"
	"log"

	"github.com/ccojocar/zxcvbn-go/data"
)

// List holds a frequency list
type List struct {
	Name string
	List []string
}

// Lists reads all the frequency lists into a map (about 50 ms of CPU and
// 10 MB); the caller keeps them as long as it needs them.
func Lists() map[string]List {
	maleFilePath := getAsset("data/MaleNames.json")
	femaleFilePath := getAsset("data/FemaleNames.json")
	surnameFilePath := getAsset("data/Surnames.json")
	englishFilePath := getAsset("data/English.json")
	passwordsFilePath := getAsset("data/Passwords.json")

	return map[string]List{
		"MaleNames":   getStringListFromAsset(maleFilePath, "MaleNames"),
		"FemaleNames": getStringListFromAsset(femaleFilePath, "FemaleNames"),
		"Surname":     getStringListFromAsset(surnameFilePath, "Surname"),
		"English":     getStringListFromAsset(englishFilePath, "English"),
		"Passwords":   getStringListFromAsset(passwordsFilePath, "Passwords"),
	}
}

func getAsset(name string) []byte {
	data, err := data.Asset(name)
	if err != nil {
		panic("Error getting asset " + name)
	}

	return data
}

func getStringListFromAsset(data []byte, name string) List {
	var tempList List
	err := json.Unmarshal(data, &tempList)
	if err != nil {
		log.Fatal(err)
	}
	tempList.Name = name
	return tempList
}
