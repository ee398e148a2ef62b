// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// juelWords are the JUEL keyword operators and their expr equivalents.
var juelWords = map[string]string{
	"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=",
	"and": "&&", "or": "||", "not": "!", "null": "nil", "div": "/", "mod": "%",
}

// IsExpression reports whether s is written as a JUEL expression
// ("${…}" or "#{…}"); anything else is a literal.
func IsExpression(s string) bool {
	s = strings.TrimSpace(s)
	return (strings.HasPrefix(s, "${") || strings.HasPrefix(s, "#{")) && strings.HasSuffix(s, "}")
}

// TranslateJUEL turns a simple JUEL expression as written by Activiti and
// Camunda ("${approved == true && amount gt 3}", "${empty x}", "${!ok}")
// into expr-lang syntax. A text without ${…} is taken as expr syntax
// already. Method calls, ternaries and property paths pass through.
func TranslateJUEL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if IsExpression(s) {
		s = s[2 : len(s)-1]
	} else if strings.Contains(s, "${") || strings.Contains(s, "#{") {
		return "", fmt.Errorf("mixed text and expressions are not supported: %q", s)
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return "", fmt.Errorf("unterminated string in %q", s)
			}
			b.WriteString(s[i : j+1])
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			prevDot := i > 0 && s[i-1] == '.'
			switch {
			case prevDot:
				b.WriteString(word)
			case word == "empty":
				k := j
				for k < len(s) && s[k] == ' ' {
					k++
				}
				end, err := operandEnd(s, k)
				if err != nil {
					return "", err
				}
				inner, err := TranslateJUEL(s[k:end])
				if err != nil {
					return "", err
				}
				b.WriteString("isEmpty(" + inner + ")")
				j = end
			case juelWords[word] != "":
				b.WriteString(juelWords[word])
			default:
				b.WriteString(word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// operandEnd returns the end of the operand of "empty" starting at k: a
// parenthesised group or a property path.
func operandEnd(s string, k int) (int, error) {
	if k < len(s) && s[k] == '(' {
		depth := 0
		for j := k; j < len(s); j++ {
			switch s[j] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unbalanced parenthesis after empty in %q", s)
	}
	j := k
	for j < len(s) && (isIdentPart(s[j]) || s[j] == '.') {
		j++
	}
	if j == k {
		return 0, fmt.Errorf("empty without operand in %q", s)
	}
	return j, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// isEmpty implements JUEL's empty: nil, "", and empty collections.
func isEmpty(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("isEmpty takes one argument")
	}
	v := params[0]
	if v == nil {
		return true, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0, nil
	}
	return false, nil
}

func exprOptions(asBool bool) []expr.Option {
	opts := []expr.Option{
		expr.AllowUndefinedVariables(),
		expr.Function("isEmpty", isEmpty),
		expr.Function("truthy", truthy),
		expr.Patch(juelBoolPatcher{}),
		expr.MaxNodes(1000),
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// compileCondition compiles a condition (JUEL or expr syntax) to a boolean
// program.
func compileCondition(s string) (*vm.Program, error) {
	code, err := TranslateJUEL(s)
	if err != nil {
		return nil, err
	}
	return expr.Compile(code, exprOptions(true)...)
}

// compileValue compiles a parameter value: "${…}" is an expression, any
// other text a literal string (returned as a nil program).
func compileValue(s string) (*vm.Program, error) {
	if !IsExpression(s) {
		return nil, nil
	}
	code, err := TranslateJUEL(s)
	if err != nil {
		return nil, err
	}
	return expr.Compile(code, exprOptions(false)...)
}

// evalBool runs a condition against the variables; nil (an undefined
// variable) counts as false, as in JUEL.
func evalBool(p *vm.Program, vars map[string]any) (bool, error) {
	out, err := expr.Run(p, env(vars))
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

func env(vars map[string]any) map[string]any {
	if vars == nil {
		return map[string]any{}
	}
	return vars
}

// truthy coerces like JUEL: nil is false, "true" is true.
func truthy(params ...any) (any, error) {
	switch v := params[0].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		return v == "true", nil
	default:
		return nil, fmt.Errorf("%v (%T) is not a boolean", v, v)
	}
}

// juelBoolPatcher wraps the operands of !, && and || in truthy so that
// an undefined variable counts as false instead of failing.
type juelBoolPatcher struct{}

// Visit implements ast.Visitor.
func (juelBoolPatcher) Visit(node *ast.Node) {
	wrap := func(n ast.Node) ast.Node {
		return &ast.CallNode{Callee: &ast.IdentifierNode{Value: "truthy"}, Arguments: []ast.Node{n}}
	}
	switch n := (*node).(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			n.Node = wrap(n.Node)
		}
	case *ast.BinaryNode:
		if n.Operator == "&&" || n.Operator == "||" || n.Operator == "and" || n.Operator == "or" {
			n.Left, n.Right = wrap(n.Left), wrap(n.Right)
		}
	}
}

// runValue evaluates a compiled value; a nil program means the literal.
func runValue(p *vm.Program, literal string, vars map[string]any) (any, error) {
	if p == nil {
		return literal, nil
	}
	return expr.Run(p, env(vars))
}
