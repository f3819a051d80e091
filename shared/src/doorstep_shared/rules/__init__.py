"""Eligibility rules as data: a small JSON Logic subset over a fixed vocabulary of resident facts.

``validate.parse`` turns a rule into a typed AST (``nodes``) that compilers walk;
``evaluate.compile_rule`` turns it into a Python closure with three-valued logic.
"""

from .evaluate import CompiledRule, Outcome, compile_rule
from .nodes import Node, facts_of
from .validate import RuleError, RuleProblem, parse, validate

__all__ = [
    "CompiledRule",
    "Node",
    "Outcome",
    "RuleError",
    "RuleProblem",
    "compile_rule",
    "facts_of",
    "parse",
    "validate",
]
