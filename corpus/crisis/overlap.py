#!/usr/bin/env python3
"""Overlap between writers: the share of one writer's messages that have a near-duplicate (word
trigram Jaccard >= 0.5 after removing diacritics and case) among another writer's messages.

Usage: python3 corpus/crisis/overlap.py DIR [DIR ...]   (each DIR: a writer's folder)
"""
import itertools, os, sys, unicodedata

def fold(text):
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in text).split()

def shingles(text):
    words = fold(text)
    return {tuple(words[i:i + 3]) for i in range(max(1, len(words) - 2))}

def load(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(".tsv"):
            out += [line.split("\t", 3)[3] for line in open(path, encoding="utf-8").read().splitlines()[1:] if line.strip()]
    return [shingles(t) for t in out]

def near(a, pool):
    return any(len(a & b) / max(1, len(a | b)) >= 0.5 for b in pool)

sets = {os.path.basename(os.path.normpath(d)): load(d) for d in sys.argv[1:]}
names = list(sets)
print("writer A -> writer B: share of A's messages with a near-duplicate in B")
for a, b in itertools.permutations(names, 2):
    share = sum(near(x, sets[b]) for x in sets[a]) / max(1, len(sets[a]))
    print(f"{a:32} -> {b:32} {share:.3f}")
