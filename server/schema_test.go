package server

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// validator checks JSON values against the subset of JSON Schema (2020-12) the
// OpenAPI document uses: $ref, type (one or a list), properties, required,
// additionalProperties, items, prefixItems and enum.
type validator struct{ doc map[string]any }

func newValidator(openapi []byte) (*validator, error) {
	var doc map[string]any
	if err := json.Unmarshal(openapi, &doc); err != nil {
		return nil, err
	}
	return &validator{doc: doc}, nil
}

func (v *validator) resolve(s map[string]any) (map[string]any, error) {
	for i := 0; i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s, nil
		}
		cur := any(v.doc)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("bad $ref %s", ref)
			}
			cur = m[part]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unresolved $ref %s", ref)
		}
		s = next
	}
	return nil, fmt.Errorf("$ref loop")
}

func typeOf(x any) string {
	switch t := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if t == math.Trunc(t) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func (v *validator) validate(x any, schema map[string]any, path string) error {
	s, err := v.resolve(schema)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch tt := t.(type) {
		case string:
			types = []string{tt}
		case []any:
			for _, e := range tt {
				types = append(types, e.(string))
			}
		}
		got := typeOf(x)
		okType := slices.Contains(types, got) || (got == "integer" && slices.Contains(types, "number"))
		if !okType {
			return fmt.Errorf("%s: %s, want %v", path, got, types)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, x) {
		return fmt.Errorf("%s: %v is not one of %v", path, x, enum)
	}
	switch xv := x.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := xv[r.(string)]; !ok {
					return fmt.Errorf("%s: required property %q missing", path, r)
				}
			}
		}
		for k, val := range xv {
			if ps, ok := props[k].(map[string]any); ok {
				if err := v.validate(val, ps, path+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: property %q is not in the schema", path, k)
				}
			case map[string]any:
				if err := v.validate(val, ap, path+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if pre, ok := s["prefixItems"].([]any); ok {
			for i, ps := range pre {
				if i < len(xv) {
					if err := v.validate(xv[i], ps.(map[string]any), fmt.Sprintf("%s[%d]", path, i)); err != nil {
						return err
					}
				}
			}
		}
		if it, ok := s["items"].(map[string]any); ok {
			for i, e := range xv {
				if err := v.validate(e, it, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// responseSchema finds the schema of a documented response.
func (v *validator) responseSchema(pattern, method string, status int, ctype string) (map[string]any, error) {
	paths := v.doc["paths"].(map[string]any)
	p, ok := paths[pattern].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("path %s is not documented", pattern)
	}
	op, ok := p[strings.ToLower(method)].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s is not documented", method, pattern)
	}
	resp, ok := op["responses"].(map[string]any)[fmt.Sprint(status)].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s: status %d is not documented", method, pattern, status)
	}
	content, _ := resp["content"].(map[string]any)
	mt, ok := content[ctype].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s %d: content type %s is not documented", method, pattern, status, ctype)
	}
	return mt["schema"].(map[string]any), nil
}
