package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// KillSwitchSid is the Sid of the statement in a permission set's inline
// policy that denies departed Identity Center users everything.
const KillSwitchSid = "OffboardingDenyDepartedUsers"

// userIDKey is the condition key the kill switch matches: the identity
// store user ID, which (unlike aws:userid) does not change with the user
// name or email.
const userIDKey = "identitystore:UserId"

// statements splits a policy's Statement, which may be one object or a
// list.
func statements(raw json.RawMessage) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '{' {
		return []json.RawMessage{raw}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	return list
}

// isStar reports whether an Action or Resource value is "*" or ["*"].
func isStar(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var list []string
	return json.Unmarshal(raw, &list) == nil && slices.Contains(list, "*")
}

// killStatement is the part of a statement the kill switch reads. Fields it
// does not know stay as they were.
type killStatement struct {
	fields map[string]json.RawMessage
}

func (k killStatement) str(name string) string {
	var s string
	_ = json.Unmarshal(k.fields[name], &s)
	return s
}

// denyIDs returns the user IDs the statement's StringEquals condition on
// identitystore:UserId lists, the exact key spelling used, and whether the
// statement is a deny of everything keyed on it.
func (k killStatement) denyIDs() (ids []string, key string, ok bool) {
	if k.str("Effect") != "Deny" || !isStar(k.fields["Action"]) || !isStar(k.fields["Resource"]) {
		return nil, "", false
	}
	var cond map[string]map[string]json.RawMessage
	if json.Unmarshal(k.fields["Condition"], &cond) != nil {
		return nil, "", false
	}
	for ck, kv := range cond {
		if ck != "StringEquals" {
			continue
		}
		for name, v := range kv {
			if !strings.EqualFold(name, userIDKey) {
				continue
			}
			var one string
			if json.Unmarshal(v, &one) == nil {
				return []string{one}, name, true
			}
			if json.Unmarshal(v, &ids) == nil {
				return ids, name, true
			}
		}
	}
	return nil, "", false
}

// parsePolicy reads a policy document into its top-level fields and
// statements. An empty document is an empty policy.
func parsePolicy(doc string) (map[string]json.RawMessage, []json.RawMessage, error) {
	top := map[string]json.RawMessage{}
	if strings.TrimSpace(doc) == "" {
		return top, nil, nil
	}
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, nil, fmt.Errorf("the inline policy is not a JSON object: %w", err)
	}
	sts := statements(top["Statement"])
	if len(top["Statement"]) > 0 && sts == nil {
		return nil, nil, fmt.Errorf("the inline policy's Statement is neither an object nor a list")
	}
	return top, sts, nil
}

// findKill returns the index of the kill-switch statement: the one with
// the KillSwitchSid, else a pre-staged deny of everything keyed on
// identitystore:UserId. -1 when there is none.
func findKill(sts []json.RawMessage) (int, killStatement) {
	var fallback = -1
	var fallbackStmt killStatement
	for i, raw := range sts {
		k := killStatement{fields: map[string]json.RawMessage{}}
		if json.Unmarshal(raw, &k.fields) != nil {
			continue
		}
		_, _, ok := k.denyIDs()
		if k.str("Sid") == KillSwitchSid && ok {
			return i, k
		}
		if ok && fallback < 0 {
			fallback, fallbackStmt = i, k
		}
	}
	return fallback, fallbackStmt
}

// policyDenies reports whether the policy denies userID everything through
// the kill-switch statement.
func policyDenies(doc, userID string) (bool, error) {
	_, sts, err := parsePolicy(doc)
	if err != nil {
		return false, err
	}
	i, k := findKill(sts)
	if i < 0 {
		return false, nil
	}
	ids, _, _ := k.denyIDs()
	return slices.Contains(ids, userID), nil
}

// addKillSwitch returns doc with userID added to the kill-switch statement
// (which is created when missing), every other statement and field, and
// every other ID already listed, kept. changed is false when userID was
// already denied; doc is then returned as it was.
func addKillSwitch(doc, userID string) (string, bool, error) {
	top, sts, err := parsePolicy(doc)
	if err != nil {
		return "", false, err
	}
	i, k := findKill(sts)
	if i >= 0 {
		ids, key, _ := k.denyIDs()
		if slices.Contains(ids, userID) {
			return doc, false, nil
		}
		var cond map[string]map[string]json.RawMessage
		_ = json.Unmarshal(k.fields["Condition"], &cond)
		cond["StringEquals"][key] = mustMarshal(append(slices.Clone(ids), userID))
		k.fields["Condition"] = mustMarshal(cond)
		sts[i] = mustMarshal(k.fields)
	} else {
		sts = append(sts, mustMarshal(map[string]any{
			"Sid":       KillSwitchSid,
			"Effect":    "Deny",
			"Action":    "*",
			"Resource":  "*",
			"Condition": map[string]any{"StringEquals": map[string]any{userIDKey: []string{userID}}},
		}))
	}
	if _, ok := top["Version"]; !ok {
		top["Version"] = mustMarshal("2012-10-17")
	}
	top["Statement"] = mustMarshal(sts)
	return string(mustMarshal(top)), true, nil
}

// removeKillSwitch returns doc without ids in the kill-switch statement;
// every other statement, field and ID is kept. changed is false when none
// was listed.
func removeKillSwitch(doc string, ids []string) (string, bool, error) {
	top, sts, err := parsePolicy(doc)
	if err != nil {
		return "", false, err
	}
	i, k := findKill(sts)
	if i < 0 {
		return doc, false, nil
	}
	have, key, _ := k.denyIDs()
	kept := slices.DeleteFunc(slices.Clone(have), func(id string) bool { return slices.Contains(ids, id) })
	if len(kept) == len(have) {
		return doc, false, nil
	}
	if len(kept) == 0 {
		// A deny of no one: keep the statement with a placeholder the
		// identity store never issues, so its shape (and Sid) stays.
		kept = []string{"offboard-none"}
	}
	var cond map[string]map[string]json.RawMessage
	_ = json.Unmarshal(k.fields["Condition"], &cond)
	cond["StringEquals"][key] = mustMarshal(kept)
	k.fields["Condition"] = mustMarshal(cond)
	sts[i] = mustMarshal(k.fields)
	top["Statement"] = mustMarshal(sts)
	return string(mustMarshal(top)), true, nil
}

// mustMarshal encodes without HTML escaping (policies hold "<" and "&"
// only in strings, where AWS keeps them as they are).
func mustMarshal(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return json.RawMessage(bytes.TrimSpace(b.Bytes()))
}
