package seed

import (
	"strings"
	"testing"
)

func TestDemoLoads(t *testing.T) {
	o, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.People) < 20 {
		t.Fatalf("demo has %d people, want at least 20", len(o.People))
	}
	var suspended, admin, manyGroups, appGroupOnly, noOkta bool
	for _, p := range o.People {
		if p.Okta == nil {
			noOkta = true
			continue
		}
		suspended = suspended || p.Okta.Status == "SUSPENDED"
		admin = admin || len(p.Okta.Roles) > 0
		manyGroups = manyGroups || len(p.Okta.Groups) > 25
		if _, ok := p.Okta.Profile["githubUsername"]; ok && p.GitHub == nil {
			t.Errorf("%s: githubUsername without a GitHub account", p.EmployeeID)
		}
		app := 0
		for _, g := range p.Okta.Groups {
			for _, og := range o.Okta.Groups {
				if og.ID == g && og.Type != "OKTA_GROUP" {
					app++
				}
			}
		}
		appGroupOnly = appGroupOnly || (app == len(p.Okta.Groups) && app > 1)
	}
	for name, ok := range map[string]bool{"suspended": suspended, "admin roles": admin, "many groups": manyGroups, "only uneditable groups": appGroupOnly, "no okta account": noOkta} {
		if !ok {
			t.Errorf("demo has nobody with %s", name)
		}
	}
	if _, ok := o.Person("E1001"); !ok {
		t.Error("E1001 missing")
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown field":  {"domain: x\nbogus: 1\n", "field bogus not found"},
		"unknown group":  {"people:\n  - employeeId: E1\n    okta: {id: 00u1, status: ACTIVE, groups: [00gX]}\n", "unknown okta group 00gX"},
		"bad status":     {"people:\n  - employeeId: E1\n    okta: {id: 00u1, status: HAPPY}\n", `unknown okta status "HAPPY"`},
		"duplicate":      {"people:\n  - employeeId: E1\n  - employeeId: E1\n", "person E1 defined twice"},
		"bad group type": {"okta:\n  groups:\n    - {id: g, name: n, type: WEIRD}\n", `unknown type "WEIRD"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
