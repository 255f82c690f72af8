package signals

import "strings"

// normCountry reads a country as the connectors give it — an ISO 3166
// alpha-2 code (GitHub's actor_location) or an English name (Okta's
// geographicalContext) — as an upper-case alpha-2 code where it knows the
// name, else the upper-cased name, so one country named two ways by two
// systems counts once. Names it does not know stay names: a country named
// by code in one system and by an unknown name in another counts twice.
func normCountry(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if code, ok := countryCodes[c]; ok {
		return code
	}
	return c
}

var countryCodes = map[string]string{
	"UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "USA": "US",
	"CANADA": "CA", "MEXICO": "MX", "BRAZIL": "BR", "ARGENTINA": "AR",
	"CHILE": "CL", "COLOMBIA": "CO", "PERU": "PE", "VENEZUELA": "VE",
	"UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB", "IRELAND": "IE",
	"FRANCE": "FR", "GERMANY": "DE", "NETHERLANDS": "NL", "THE NETHERLANDS": "NL",
	"BELGIUM": "BE", "LUXEMBOURG": "LU", "SWITZERLAND": "CH", "AUSTRIA": "AT",
	"SPAIN": "ES", "PORTUGAL": "PT", "ITALY": "IT", "GREECE": "GR",
	"DENMARK": "DK", "NORWAY": "NO", "SWEDEN": "SE", "FINLAND": "FI", "ICELAND": "IS",
	"POLAND": "PL", "CZECHIA": "CZ", "CZECH REPUBLIC": "CZ", "SLOVAKIA": "SK",
	"HUNGARY": "HU", "ROMANIA": "RO", "BULGARIA": "BG", "SERBIA": "RS",
	"CROATIA": "HR", "SLOVENIA": "SI", "ESTONIA": "EE", "LATVIA": "LV",
	"LITHUANIA": "LT", "UKRAINE": "UA", "BELARUS": "BY", "RUSSIA": "RU",
	"RUSSIAN FEDERATION": "RU", "MOLDOVA": "MD", "GEORGIA": "GE", "ARMENIA": "AM",
	"TURKEY": "TR", "TÜRKIYE": "TR", "ISRAEL": "IL", "UNITED ARAB EMIRATES": "AE",
	"SAUDI ARABIA": "SA", "EGYPT": "EG", "NIGERIA": "NG", "KENYA": "KE",
	"SOUTH AFRICA": "ZA", "MOROCCO": "MA", "INDIA": "IN", "PAKISTAN": "PK",
	"BANGLADESH": "BD", "SRI LANKA": "LK", "NEPAL": "NP", "CHINA": "CN",
	"HONG KONG": "HK", "MACAO": "MO", "TAIWAN": "TW", "JAPAN": "JP",
	"SOUTH KOREA": "KR", "KOREA, REPUBLIC OF": "KR", "REPUBLIC OF KOREA": "KR",
	"NORTH KOREA": "KP", "KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF": "KP",
	"MONGOLIA": "MN", "KAZAKHSTAN": "KZ", "SINGAPORE": "SG", "MALAYSIA": "MY",
	"INDONESIA": "ID", "PHILIPPINES": "PH", "VIETNAM": "VN", "VIET NAM": "VN",
	"THAILAND": "TH", "LAOS": "LA", "CAMBODIA": "KH", "MYANMAR": "MM",
	"AUSTRALIA": "AU", "NEW ZEALAND": "NZ",
}
