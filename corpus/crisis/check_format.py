#!/usr/bin/env python3
"""Checks crisis data files against docs/crisis/taxonomy.md §5 and prints counts.

Usage: python3 corpus/crisis/check_format.py FILE [FILE ...]   (.tsv singles, .jsonl conversations)
"""
import collections, json, sys

CRISIS = {"suicide", "self_harm", "abuse", "violence", "third_party"}
SAFE = {"everyday", "sadness", "exam_stress", "hyperbole", "idiom_emoji", "place", "media",
        "academic", "legal", "negation", "resolved_past", "help_seeking_general"}
STYLES = {"nfc", "nfd", "windows_keyboard", "no_diacritics", "teen_code", "telex", "english",
          "english_mix", "emoji", "split_letters", "all_caps", "typo"}
PATTERNS = {"earlier_turns", "joke_retraction", "piecewise_abuse", "friend_escalation",
            "safety_step", "direct_crisis", "false_alarm", "ordinary"}
RISKS = {"none", "elevated", "crisis"}

def check_tsv(path, errors):
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines[0] != "label\tcategory\tstyle\ttext":
        errors.append(f"{path}:1 header must be 'label<TAB>category<TAB>style<TAB>text'")
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 4:
            errors.append(f"{path}:{n} has {len(cols)} columns, wants 4")
            continue
        label, cat, style, text = cols
        if label not in ("0", "1"):
            errors.append(f"{path}:{n} label {label!r}")
        elif label == "1" and cat not in CRISIS:
            errors.append(f"{path}:{n} crisis category {cat!r}")
        elif label == "0" and cat not in SAFE:
            errors.append(f"{path}:{n} hard-negative kind {cat!r}")
        if style not in STYLES:
            errors.append(f"{path}:{n} style {style!r}")
        if not text.strip():
            errors.append(f"{path}:{n} empty text")
        counts[(label, cat)] += 1
        counts[("style", style)] += 1
    return counts

def check_jsonl(path, errors):
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                conv = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{path}:{n} not JSON: {e}")
                continue
            if conv.get("pattern") not in PATTERNS:
                errors.append(f"{path}:{n} pattern {conv.get('pattern')!r}")
            turns = conv.get("turns") or []
            if not 3 <= len(turns) <= 12:
                errors.append(f"{path}:{n} has {len(turns)} turns, wants 3 to 12")
            for t in turns:
                if t.get("risk") not in RISKS:
                    errors.append(f"{path}:{n} risk {t.get('risk')!r}")
                if t.get("risk") == "crisis" and t.get("category") not in CRISIS:
                    errors.append(f"{path}:{n} crisis turn without a category")
                if t.get("risk") != "crisis" and t.get("category") is not None:
                    errors.append(f"{path}:{n} non-crisis turn with a category")
                if t.get("style") not in STYLES:
                    errors.append(f"{path}:{n} style {t.get('style')!r}")
                if not str(t.get("text", "")).strip():
                    errors.append(f"{path}:{n} empty turn")
                counts[("turn", t.get("risk"))] += 1
            counts[("pattern", conv.get("pattern"))] += 1
            counts["conversations"] += 1
    return counts

def main():
    errors, total = [], collections.Counter()
    for path in sys.argv[1:]:
        total += (check_jsonl if path.endswith(".jsonl") else check_tsv)(path, errors)
    for e in errors[:50]:
        print("ERROR", e)
    for key, value in sorted(total.items(), key=str):
        print(key, value)
    sys.exit(1 if errors else 0)

if __name__ == "__main__":
    main()
