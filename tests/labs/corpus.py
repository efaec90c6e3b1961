"""Deterministic generator of synthetic lab report PDFs with ground truth.

Every person, laboratory and value here is invented. The layouts follow the public conventions
described in /work/shared/labs/LAYOUTS.md (US national lab classic and portal print, Indian
diagnostic chain and hospital pathology, Hungarian lab and national e-health form, Portuguese
hospital with a history column, UK NHS whitespace layout, German two-column report and a
cumulative multi-date report; ruled and borderless tables; one and two page columns).

    python -m tests.labs.corpus OUT_DIR [--seed N] [--per-layout N]

writes ``<id>.pdf`` and ``<id>.json`` (ground truth) for every report.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF

from ohvault.labs.catalog import Analyte, Catalog, load_catalog

FONT_DIRS = [
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
]
LAYOUTS = [
    "us_classic",
    "us_portal",
    "in_chain",
    "in_hospital",
    "hu_lab",
    "hu_eeszt",
    "pt_hospital",
    "uk_nhs",
    "de_twocol",
    "cumulative",
]

# ----------------------------------------------------------------------------- people & labs
FIRST = {
    "us": (
        ["James", "Robert", "Michael", "David", "Daniel"],
        ["Mary", "Linda", "Susan", "Karen", "Emily"],
    ),
    "in": (
        ["Rahul", "Amit", "Vikram", "Arjun", "Sanjay"],
        ["Priya", "Anjali", "Kavya", "Neha", "Pooja"],
    ),
    "hu": (
        ["László", "Gábor", "Zoltán", "Péter", "Tamás"],
        ["Anna", "Éva", "Katalin", "Zsófia", "Erzsébet"],
    ),
    "pt": (["João", "Pedro", "Rui", "Tiago", "Nuno"], ["Maria", "Ana", "Inês", "Beatriz", "Sofia"]),
    "uk": (
        ["Oliver", "George", "Harry", "Thomas", "William"],
        ["Olivia", "Amelia", "Isla", "Emily", "Grace"],
    ),
    "de": (
        ["Thomas", "Stefan", "Jürgen", "Michael", "Andreas"],
        ["Sabine", "Petra", "Julia", "Anja", "Ute"],
    ),
}
LAST = {
    "us": ["Miller", "Johnson", "Carter", "Brooks", "Hayes"],
    "in": ["Sharma", "Verma", "Iyer", "Reddy", "Nair"],
    "hu": ["Kovács", "Szabó", "Tóth", "Horváth", "Kiss", "Szőke", "Fűzi"],
    "pt": ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira"],
    "uk": ["Smith", "Jones", "Taylor", "Brown", "Evans"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weiß"],
}
LABS = {
    "us_classic": ["Quantum Clinical Laboratories", "Meridian Reference Labs"],
    "us_portal": ["Brightline Diagnostics", "Harborview Medical Labs"],
    "in_chain": ["Sunrise PathLabs Ltd", "Ganga Diagnostics"],
    "in_hospital": ["Shanti Memorial Hospital", "Lotus Multispeciality Hospital"],
    "hu_lab": ["Szent Márton Laboratórium Kft.", "Duna Diagnosztika Zrt."],
    "hu_eeszt": ["Tisza Menti Kórház Központi Laboratórium", "Balaton Labor Kft."],
    "pt_hospital": ["Hospital de Santa Luzia", "Centro Hospitalar do Mondego"],
    "uk_nhs": ["Northfield General Hospital Pathology", "Riverside NHS Trust Blood Sciences"],
    "de_twocol": ["Labor Dr. Weber und Kollegen", "MVZ Labormedizin Rheinaue"],
    "cumulative": ["Lakeside Health Laboratory", "Cedar Valley Clinical Lab"],
}

# ----------------------------------------------------------------------------- panels
PANELS: dict[str, list[str]] = {
    "cbc": ["wbc", "rbc", "hgb", "hct", "mcv", "mch", "mchc", "rdw", "plt", "mpv"],
    "diff": [
        "neut_pct",
        "lymph_pct",
        "mono_pct",
        "eos_pct",
        "baso_pct",
        "neut_abs",
        "lymph_abs",
        "mono_abs",
        "eos_abs",
        "baso_abs",
    ],
    "cmp": [
        "glucose",
        "bun",
        "creatinine",
        "egfr",
        "bun_creat",
        "sodium",
        "potassium",
        "chloride",
        "co2",
        "calcium",
        "protein_total",
        "albumin",
        "globulin",
        "ag_ratio",
        "bili_total",
        "alp",
        "ast",
        "alt",
    ],
    "renal": ["urea", "creatinine", "egfr", "uric_acid", "sodium", "potassium"],
    "lipids": ["chol", "tg", "hdl", "ldl", "vldl", "chol_hdl"],
    "liver": ["bili_total", "bili_direct", "alt", "ast", "alp", "ggt", "protein_total", "albumin"],
    "thyroid": ["tsh", "ft4", "ft3"],
    "diabetes": ["hba1c", "glucose", "insulin"],
    "iron": ["iron", "tibc", "tsat", "ferritin"],
    "vitamins": ["vitd", "b12", "folate"],
    "inflam": ["crp", "esr"],
    "hormones": ["testosterone", "psa", "cortisol"],
    "coag": ["pt", "inr", "aptt", "fibrinogen"],
    "urine": [
        "u_color",
        "u_appearance",
        "u_sg",
        "u_ph",
        "u_protein",
        "u_glucose",
        "u_ketones",
        "u_blood",
        "u_nitrite",
        "u_le",
    ],
    "minerals": ["magnesium", "phosphorus", "calcium"],
}
PANEL_TITLES = {
    "en": {
        "cbc": "CBC With Differential/Platelet",
        "diff": "Differential Count",
        "cmp": "Comp. Metabolic Panel (14)",
        "renal": "Renal Function Test",
        "lipids": "Lipid Panel",
        "liver": "Liver Function Test",
        "thyroid": "Thyroid Profile",
        "diabetes": "Diabetes",
        "iron": "Iron Studies",
        "vitamins": "Vitamins",
        "inflam": "Inflammatory Markers",
        "hormones": "Hormones",
        "coag": "Coagulation Profile",
        "urine": "Urinalysis",
        "minerals": "Minerals",
    },
    "hu": {
        "cbc": "Vérkép",
        "diff": "Kvalitatív vérkép",
        "cmp": "Klinikai kémia",
        "renal": "Vesefunkció",
        "lipids": "Lipidek",
        "liver": "Májfunkció",
        "thyroid": "Pajzsmirigy",
        "diabetes": "Szénhidrát-anyagcsere",
        "iron": "Vasanyagcsere",
        "vitamins": "Vitaminok",
        "inflam": "Gyulladásos markerek",
        "hormones": "Hormonok",
        "coag": "Hemosztázis",
        "urine": "Vizelet",
        "minerals": "Elektrolitok",
    },
    "de": {
        "cbc": "Kleines Blutbild",
        "diff": "Differentialblutbild",
        "cmp": "Klinische Chemie",
        "renal": "Nierenwerte",
        "lipids": "Fettstoffwechsel",
        "liver": "Leberwerte",
        "thyroid": "Schilddrüse",
        "diabetes": "Kohlenhydratstoffwechsel",
        "iron": "Eisenstoffwechsel",
        "vitamins": "Vitamine",
        "inflam": "Entzündungswerte",
        "hormones": "Hormone",
        "coag": "Gerinnung",
        "urine": "Urinstatus",
        "minerals": "Elektrolyte",
    },
    "pt": {
        "cbc": "Hemograma",
        "diff": "Leucograma",
        "cmp": "Bioquímica",
        "renal": "Função renal",
        "lipids": "Perfil lipídico",
        "liver": "Função hepática",
        "thyroid": "Função tiroideia",
        "diabetes": "Controlo glicémico",
        "iron": "Metabolismo do ferro",
        "vitamins": "Vitaminas",
        "inflam": "Marcadores inflamatórios",
        "hormones": "Hormonas",
        "coag": "Coagulação",
        "urine": "Urina tipo II",
        "minerals": "Ionograma",
    },
}
# printed test names per locale (fallback: catalog preferred name / first synonym)
NAMES: dict[str, dict[str, str]] = {
    "us": {
        "wbc": "WBC",
        "rbc": "RBC",
        "hgb": "Hemoglobin",
        "hct": "Hematocrit",
        "mcv": "MCV",
        "mch": "MCH",
        "mchc": "MCHC",
        "rdw": "RDW",
        "plt": "Platelets",
        "mpv": "MPV",
        "neut_pct": "Neutrophils",
        "lymph_pct": "Lymphs",
        "mono_pct": "Monocytes",
        "eos_pct": "Eos",
        "baso_pct": "Basos",
        "neut_abs": "Neutrophils (Absolute)",
        "lymph_abs": "Lymphs (Absolute)",
        "mono_abs": "Monocytes(Absolute)",
        "eos_abs": "Eos (Absolute)",
        "baso_abs": "Baso (Absolute)",
        "glucose": "Glucose",
        "bun": "BUN",
        "creatinine": "Creatinine",
        "egfr": "eGFR",
        "bun_creat": "BUN/Creatinine Ratio",
        "sodium": "Sodium",
        "potassium": "Potassium",
        "chloride": "Chloride",
        "co2": "Carbon Dioxide, Total",
        "calcium": "Calcium",
        "protein_total": "Protein, Total",
        "albumin": "Albumin",
        "globulin": "Globulin, Total",
        "ag_ratio": "A/G Ratio",
        "bili_total": "Bilirubin, Total",
        "alp": "Alkaline Phosphatase",
        "ast": "AST (SGOT)",
        "alt": "ALT (SGPT)",
        "chol": "Cholesterol, Total",
        "tg": "Triglycerides",
        "hdl": "HDL Cholesterol",
        "ldl": "LDL Chol Calc (NIH)",
        "vldl": "VLDL Cholesterol Cal",
        "chol_hdl": "T. Chol/HDL Ratio",
        "tsh": "TSH",
        "ft4": "T4,Free(Direct)",
        "ft3": "Triiodothyronine (T3), Free",
        "hba1c": "Hemoglobin A1c",
        "insulin": "Insulin",
        "vitd": "Vitamin D, 25-Hydroxy",
        "b12": "Vitamin B12",
        "folate": "Folate (Folic Acid), Serum",
        "crp": "C-Reactive Protein, Quant",
        "esr": "Sedimentation Rate-Westergren",
        "psa": "Prostate Specific Ag",
        "testosterone": "Testosterone",
        "cortisol": "Cortisol",
        "iron": "Iron, Serum",
        "tibc": "TIBC",
        "tsat": "Iron Saturation",
        "ferritin": "Ferritin, Serum",
        "ggt": "GGT",
        "bili_direct": "Bilirubin, Direct",
        "uric_acid": "Uric Acid",
        "urea": "Urea",
        "pt": "Prothrombin Time",
        "inr": "INR",
        "aptt": "aPTT",
        "fibrinogen": "Fibrinogen Activity",
        "magnesium": "Magnesium",
        "phosphorus": "Phosphorus",
        "u_color": "Color",
        "u_appearance": "Appearance",
        "u_sg": "Specific Gravity",
        "u_ph": "pH",
        "u_protein": "Protein",
        "u_glucose": "Glucose",
        "u_ketones": "Ketones",
        "u_blood": "Occult Blood",
        "u_nitrite": "Nitrite",
        "u_le": "Leukocyte Esterase",
    },
    "in": {
        "wbc": "Total Leucocyte Count (TLC)",
        "rbc": "RBC Count",
        "hgb": "Hemoglobin",
        "hct": "Packed Cell Volume (PCV)",
        "mcv": "MCV",
        "mch": "MCH",
        "mchc": "MCHC",
        "rdw": "Red Cell Distribution Width (RDW)",
        "plt": "Platelet Count",
        "mpv": "Mean Platelet Volume (MPV)",
        "neut_pct": "Neutrophils",
        "lymph_pct": "Lymphocytes",
        "mono_pct": "Monocytes",
        "eos_pct": "Eosinophils",
        "baso_pct": "Basophils",
        "neut_abs": "Neutrophils",
        "lymph_abs": "Lymphocytes",
        "mono_abs": "Monocytes",
        "eos_abs": "Eosinophils",
        "baso_abs": "Basophils",
        "glucose": "Glucose Random",
        "urea": "Urea",
        "creatinine": "Creatinine",
        "egfr": "eGFR",
        "uric_acid": "Uric Acid",
        "sodium": "Sodium",
        "potassium": "Potassium",
        "chol": "Cholesterol, Total",
        "tg": "Triglycerides",
        "hdl": "HDL Cholesterol",
        "ldl": "LDL Cholesterol, Calculated",
        "vldl": "VLDL Cholesterol, Calculated",
        "chol_hdl": "Total Cholesterol/HDL Ratio",
        "tsh": "TSH, Ultrasensitive",
        "ft4": "Free T4",
        "ft3": "Free T3",
        "hba1c": "HbA1c (Glycosylated Hemoglobin)",
        "insulin": "Insulin, Fasting",
        "vitd": "25-OH Vitamin D (Total)",
        "b12": "Vitamin B12",
        "folate": "Folic Acid",
        "crp": "CRP (Quantitative)",
        "esr": "ESR",
        "bili_total": "Bilirubin Total",
        "bili_direct": "Bilirubin Direct",
        "alt": "SGPT (ALT)",
        "ast": "SGOT (AST)",
        "alp": "Alkaline Phosphatase",
        "ggt": "GGTP",
        "protein_total": "Total Protein",
        "albumin": "Albumin",
        "iron": "Iron",
        "tibc": "Total Iron Binding Capacity (TIBC)",
        "tsat": "Transferrin Saturation",
        "ferritin": "Ferritin",
        "u_color": "Colour",
        "u_appearance": "Appearance",
        "u_sg": "Specific Gravity",
        "u_ph": "pH",
        "u_protein": "Protein",
        "u_glucose": "Glucose",
        "u_ketones": "Ketones",
        "u_blood": "Blood",
        "u_nitrite": "Nitrite",
        "u_le": "Leukocyte Esterase",
    },
    "hu": {
        "wbc": "Fehérvérsejtszám",
        "rbc": "Vörösvérsejtszám",
        "hgb": "Hemoglobin",
        "hct": "Hematokrit",
        "mcv": "MCV",
        "mch": "MCH",
        "mchc": "MCHC",
        "rdw": "RDW",
        "plt": "Trombocitaszám",
        "mpv": "MPV",
        "neut_pct": "Neutrofil granulocita %",
        "lymph_pct": "Limfocita %",
        "mono_pct": "Monocita %",
        "eos_pct": "Eozinofil %",
        "baso_pct": "Bazofil %",
        "neut_abs": "Neutrofil granulocita #",
        "lymph_abs": "Limfocita #",
        "mono_abs": "Monocita #",
        "eos_abs": "Eozinofil #",
        "baso_abs": "Bazofil #",
        "glucose": "Glükóz",
        "urea": "Karbamid",
        "creatinine": "Kreatinin",
        "egfr": "eGFR-EPI",
        "uric_acid": "Húgysav",
        "sodium": "Nátrium",
        "potassium": "Kálium",
        "chloride": "Klorid",
        "calcium": "Kalcium",
        "magnesium": "Magnézium",
        "phosphorus": "Foszfát",
        "chol": "Koleszterin",
        "tg": "Triglicerid",
        "hdl": "HDL-koleszterin",
        "ldl": "LDL-koleszterin",
        "tsh": "TSH",
        "ft4": "FT4",
        "ft3": "FT3",
        "hba1c": "HbA1c",
        "crp": "CRP",
        "esr": "We",
        "bili_total": "Bilirubin, összes",
        "alt": "GPT (ALAT)",
        "ast": "GOT (ASAT)",
        "alp": "ALP",
        "ggt": "Gamma-GT",
        "protein_total": "Összfehérje",
        "albumin": "Albumin",
        "iron": "Vas",
        "ferritin": "Ferritin",
        "tibc": "TVK",
        "tsat": "Transzferrin szaturáció",
        "vitd": "D-vitamin (25-OH)",
        "b12": "B12-vitamin",
        "folate": "Folsav",
        "pt": "Protrombin idő",
        "inr": "INR",
        "aptt": "APTI",
        "fibrinogen": "Fibrinogén",
        "insulin": "Inzulin",
    },
    "de": {
        "wbc": "Leukozyten",
        "rbc": "Erythrozyten",
        "hgb": "Hämoglobin",
        "hct": "Hämatokrit",
        "mcv": "MCV",
        "mch": "MCH",
        "mchc": "MCHC",
        "rdw": "RDW",
        "plt": "Thrombozyten",
        "mpv": "MPV",
        "neut_pct": "Neutrophile %",
        "lymph_pct": "Lymphozyten %",
        "mono_pct": "Monozyten %",
        "eos_pct": "Eosinophile %",
        "baso_pct": "Basophile %",
        "neut_abs": "Neutrophile abs.",
        "lymph_abs": "Lymphozyten abs.",
        "mono_abs": "Monozyten abs.",
        "eos_abs": "Eosinophile abs.",
        "baso_abs": "Basophile abs.",
        "glucose": "Glukose",
        "urea": "Harnstoff",
        "creatinine": "Kreatinin",
        "egfr": "GFR nach CKD-EPI",
        "uric_acid": "Harnsäure",
        "sodium": "Natrium",
        "potassium": "Kalium",
        "chloride": "Chlorid",
        "calcium": "Calcium",
        "magnesium": "Magnesium",
        "phosphorus": "Phosphat",
        "chol": "Cholesterin gesamt",
        "tg": "Triglyceride",
        "hdl": "HDL-Cholesterin",
        "ldl": "LDL-Cholesterin",
        "tsh": "TSH basal",
        "ft4": "fT4",
        "ft3": "fT3",
        "hba1c": "HbA1c",
        "crp": "CRP",
        "esr": "BSG",
        "bili_total": "Bilirubin gesamt",
        "alt": "GPT (ALT)",
        "ast": "GOT (AST)",
        "alp": "Alkalische Phosphatase",
        "ggt": "Gamma-GT",
        "protein_total": "Gesamteiweiß",
        "albumin": "Albumin",
        "iron": "Eisen",
        "ferritin": "Ferritin",
        "vitd": "25-OH-Vitamin D",
        "b12": "Vitamin B12",
        "folate": "Folsäure",
        "pt": "Prothrombinzeit",
        "inr": "INR",
        "aptt": "PTT",
        "fibrinogen": "Fibrinogen",
        "tsat": "Transferrinsättigung",
        "tibc": "Totale Eisenbindungskapazität",
        "insulin": "Insulin",
    },
    "pt": {
        "wbc": "Leucócitos",
        "rbc": "Eritrócitos",
        "hgb": "Hemoglobina",
        "hct": "Hematócrito",
        "mcv": "VGM",
        "mch": "HGM",
        "mchc": "CHGM",
        "rdw": "RDW",
        "plt": "Plaquetas",
        "mpv": "VPM",
        "neut_pct": "Neutrófilos %",
        "lymph_pct": "Linfócitos %",
        "mono_pct": "Monócitos %",
        "eos_pct": "Eosinófilos %",
        "baso_pct": "Basófilos %",
        "neut_abs": "Neutrófilos #",
        "lymph_abs": "Linfócitos #",
        "mono_abs": "Monócitos #",
        "eos_abs": "Eosinófilos #",
        "baso_abs": "Basófilos #",
        "glucose": "Glicose",
        "urea": "Ureia",
        "creatinine": "Creatinina",
        "egfr": "TFG estimada",
        "uric_acid": "Ácido úrico",
        "sodium": "Sódio",
        "potassium": "Potássio",
        "chloride": "Cloro",
        "calcium": "Cálcio",
        "magnesium": "Magnésio",
        "phosphorus": "Fósforo",
        "chol": "Colesterol total",
        "tg": "Triglicéridos",
        "hdl": "Colesterol HDL",
        "ldl": "Colesterol LDL",
        "tsh": "TSH",
        "ft4": "T4 livre",
        "ft3": "T3 livre",
        "hba1c": "Hemoglobina glicada",
        "crp": "Proteína C reativa",
        "esr": "Velocidade de sedimentação",
        "bili_total": "Bilirrubina total",
        "alt": "ALT (TGP)",
        "ast": "AST (TGO)",
        "alp": "Fosfatase alcalina",
        "ggt": "Gama-GT",
        "protein_total": "Proteínas totais",
        "albumin": "Albumina",
        "iron": "Ferro",
        "ferritin": "Ferritina",
        "vitd": "Vitamina D (25-OH)",
        "b12": "Vitamina B12",
        "folate": "Ácido fólico",
        "pt": "Tempo de protrombina",
        "inr": "INR",
        "aptt": "aPTT",
        "fibrinogen": "Fibrinogénio",
        "tsat": "Saturação da transferrina",
        "insulin": "Insulina",
        "tibc": "Capacidade total de fixação do ferro",
    },
    "uk": {
        "wbc": "Total white cell count",
        "rbc": "Red blood cell count",
        "hgb": "Haemoglobin estimation",
        "hct": "Haematocrit",
        "mcv": "Mean cell volume",
        "mch": "Mean cell haemoglobin",
        "mchc": "Mean cell haemoglobin concentration",
        "rdw": "Red cell distribution width",
        "plt": "Platelet count",
        "mpv": "Mean platelet volume",
        "neut_abs": "Neutrophil count",
        "lymph_abs": "Lymphocyte count",
        "mono_abs": "Monocyte count",
        "eos_abs": "Eosinophil count",
        "baso_abs": "Basophil count",
        "glucose": "Plasma glucose",
        "urea": "Serum urea level",
        "creatinine": "Serum creatinine",
        "egfr": "eGFR",
        "sodium": "Serum sodium",
        "potassium": "Serum potassium",
        "chol": "Serum cholesterol",
        "tg": "Serum triglycerides",
        "hdl": "Serum HDL cholesterol",
        "ldl": "LDL cholesterol (calculated)",
        "chol_hdl": "Cholesterol/HDL ratio",
        "tsh": "Serum TSH",
        "ft4": "Serum free T4",
        "hba1c": "HbA1c (IFCC)",
        "crp": "Serum CRP",
        "esr": "Plasma viscosity ESR",
        "bili_total": "Serum bilirubin",
        "alt": "Serum ALT",
        "alp": "Serum alkaline phosphatase",
        "ggt": "Serum gamma GT",
        "albumin": "Serum albumin",
        "protein_total": "Serum total protein",
        "ferritin": "Serum ferritin",
        "vitd": "Total 25-hydroxyvitamin D",
        "b12": "Serum B12",
        "folate": "Serum folate",
        "iron": "Serum iron",
        "tsat": "Transferrin saturation",
        "uric_acid": "Serum urate",
        "calcium": "Serum calcium",
        "magnesium": "Serum magnesium",
        "phosphorus": "Serum phosphate",
        "inr": "INR",
        "pt": "Prothrombin time",
        "aptt": "APTT",
        "fibrinogen": "Fibrinogen (Clauss)",
    },
}
# Real tests the catalog does not list (it lists Omega-3 index, Galectin-3, Lp-PLA2 and TMAO).
UNKNOWN_TESTS = ["Zonulin", "Pentraxin-3", "Fetuin-A", "Irisin", "Diamine oxidase"]

SI_PREF = [
    "mmol/L",
    "umol/L",
    "g/L",
    "10*9/L",
    "10*12/L",
    "nmol/L",
    "pmol/L",
    "U/L",
    "mmol/mol",
    "L/L",
]
US_PREF = ["mg/dL", "g/dL", "10*3/uL", "10*6/uL", "ug/dL", "ng/dL", "ng/mL", "pg/mL", "U/L", "%"]
IN_PREF = ["mg/dL", "g/dL", "10*3/uL", "10*6/uL", "ng/mL", "pg/mL", "U/L", "%"]
HU_PREF = ["mmol/L", "umol/L", "g/L", "10*9/L", "10*12/L", "nmol/L", "pmol/L", "U/L", "%", "L/L"]


# ----------------------------------------------------------------------------- model
@dataclass
class Row:
    analyte: Analyte | None
    printed_name: str
    value_text: str
    value: float | str
    unit_ucum: str | None
    unit_printed: str
    ref_low: float | None
    ref_high: float | None
    ref_printed: str
    flag: str | None
    panel: str
    prev: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    id: str
    layout: str
    seed: int
    lab: str
    patient_printed: str
    dob: date
    sex: str
    collected: date
    received: date
    reported: date
    rows: list[Row]
    decimal_comma: bool
    unknown: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)  # cumulative columns
    cum_rows: list[tuple[Row, list[tuple[Row | None, date]]]] = field(default_factory=list)


def _decimals(v: float) -> int:
    a = abs(v)
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2 if a < 2 else 1
    return 2


def fmt(v: float, decimals: int, comma: bool) -> str:
    s = f"{v:.{decimals}f}"
    return s.replace(".", ",") if comma else s


def unit_spelling(ucum: str, layout: str, rng: random.Random) -> str:
    table: dict[str, list[str]] = {
        "10*3/uL": {
            "us_classic": ["x10E3/uL"],
            "us_portal": ["Thousand/uL"],
            "in_chain": ["10^3/µL", "thou/mm3"],
            "in_hospital": ["10^3/µL", "x10³/µL"],
            "cumulative": ["K/uL"],
        }.get(layout, ["10^3/µL"]),
        "10*6/uL": {
            "us_classic": ["x10E6/uL"],
            "us_portal": ["Million/uL"],
            "in_chain": ["mill/mm3", "10^6/µL"],
            "in_hospital": ["10^6/µL"],
            "cumulative": ["M/uL"],
        }.get(layout, ["10^6/µL"]),
        "10*9/L": {
            "hu_lab": ["G/L", "Giga/L"],
            "hu_eeszt": ["G/l"],
            "uk_nhs": ["x10^9/L", "10*9/L"],
            "de_twocol": ["G/l", "/nl"],
            "pt_hospital": ["x10^9/L", "10^9/L"],
        }.get(layout, ["10^9/L"]),
        "10*12/L": {
            "hu_lab": ["T/L", "Tera/L"],
            "hu_eeszt": ["T/l"],
            "uk_nhs": ["x10^12/L"],
            "de_twocol": ["T/l"],
            "pt_hospital": ["x10^12/L"],
        }.get(layout, ["10^12/L"]),
        "umol/L": ["µmol/L", "umol/L", "µmol/l"]
        if layout in ("hu_lab", "de_twocol", "hu_eeszt")
        else ["umol/L", "µmol/L"],
        "mmol/L": ["mmol/l"] if layout in ("hu_lab", "de_twocol", "hu_eeszt") else ["mmol/L"],
        "g/L": ["g/l"] if layout in ("hu_lab", "de_twocol") else ["g/L"],
        "u[IU]/mL": ["uIU/mL", "µIU/mL", "mcIU/mL"],
        "m[IU]/L": ["mIU/L", "mU/L", "mIU/l"],
        "ug/dL": ["ug/dL", "µg/dL", "mcg/dL"],
        "mL/min/{1.73_m2}": ["mL/min/1.73", "mL/min/1.73 m2", "ml/min/1,73m²"]
        if layout != "us_classic"
        else ["mL/min/1.73"],
        "U/L": ["U/l"] if layout in ("hu_lab", "de_twocol") else ["U/L", "IU/L"],
        "pmol/L": ["pmol/l"] if layout in ("hu_lab", "de_twocol") else ["pmol/L"],
        "nmol/L": ["nmol/l"] if layout in ("hu_lab", "de_twocol") else ["nmol/L"],
        "fL": ["fL", "fl"],
        "%": ["%"],
        "mm/h": ["mm/hr", "mm/h", "mm/1st hr"],
        "s": ["sec", "s", "mp"] if layout == "hu_lab" else ["sec", "s"],
        "/uL": ["/cumm", "cells/cumm"],
        "{ratio}": [""],
        "{INR}": [""],
    }.get(ucum, [ucum])
    return rng.choice(table)


class Generator:
    def __init__(self, seed: int = 20240305, catalog: Catalog | None = None) -> None:
        self.seed = seed
        self.cat = catalog or load_catalog()

    # ---- building the content
    def build(self, layout: str, index: int) -> Report:
        rng = random.Random(f"{self.seed}-{layout}-{index}")
        locale = {
            "us_classic": "us",
            "us_portal": "us",
            "cumulative": "us",
            "in_chain": "in",
            "in_hospital": "in",
            "hu_lab": "hu",
            "hu_eeszt": "hu",
            "pt_hospital": "pt",
            "uk_nhs": "uk",
            "de_twocol": "de",
        }[layout]
        sex = rng.choice("MF")
        first = rng.choice(FIRST[locale][0 if sex == "M" else 1])
        last = rng.choice(LAST[locale])
        printed = {
            "us": f"{last.upper()}, {first.upper()}",
            "in": f"{'Mr.' if sex == 'M' else 'Ms.'} {first.upper()} {last.upper()}",
            "hu": f"{last} {first}",
            "pt": f"{first} {last} {rng.choice(LAST['pt'])}",
            "uk": f"{'Mr' if sex == 'M' else 'Ms'} {first} {last.upper()}",
            "de": f"{last}, {first}",
        }[locale]
        dob = date(rng.randint(1945, 2000), rng.randint(1, 12), rng.randint(1, 28))
        collected = date(2024, 1, 1) + timedelta(days=rng.randint(0, 500))
        received = collected + timedelta(days=rng.choice([0, 0, 1]))
        reported = received + timedelta(days=rng.randint(1, 3))
        comma = layout in ("hu_lab", "hu_eeszt", "pt_hospital", "de_twocol")
        panels = self._panels(layout, rng, index)
        rows: list[Row] = []
        for panel in panels:
            for aid in PANELS[panel]:
                if layout == "uk_nhs" and aid.endswith("_pct"):
                    continue
                if (
                    panel != "cmp"
                    and panel != "urine"
                    and any(r.analyte and r.analyte.id == aid for r in rows)
                ):
                    continue
                if panel == "cmp" and any(r.analyte and r.analyte.id == aid for r in rows):
                    continue
                a = self.cat.by_id(aid)
                assert a is not None, aid
                rows.append(self._row(a, layout, locale, panel, rng, comma, sex))
        unknown = []
        if index % 2 == 0:
            name = rng.choice(UNKNOWN_TESTS)
            unknown.append(name)
            ucum = "ng/mL"
            val = round(rng.uniform(5, 90), 1)
            rows.append(
                Row(
                    None,
                    name,
                    fmt(val, 1, comma),
                    val,
                    ucum,
                    "ng/mL",
                    None,
                    None,
                    f"{fmt(1, 1, comma)}-{fmt(50, 1, comma)}",
                    None,
                    panels[-1],
                )
            )
        rep = Report(
            id=f"{layout}_{index:02d}",
            layout=layout,
            seed=self.seed,
            lab=rng.choice(LABS[layout]),
            patient_printed=printed,
            dob=dob,
            sex=sex,
            collected=collected,
            received=received,
            reported=reported,
            rows=rows,
            decimal_comma=comma,
            unknown=unknown,
        )
        if layout == "cumulative":
            self._cumulative(rep, rng)
        return rep

    def _panels(self, layout: str, rng: random.Random, index: int) -> list[str]:
        if layout == "in_hospital":
            return ["cbc", "diff"]
        base = {
            "us_classic": [
                "cbc",
                "diff",
                "cmp",
                "lipids",
                "thyroid",
                "diabetes",
                "vitamins",
                "urine",
            ],
            "us_portal": ["lipids", "cmp", "cbc", "thyroid", "diabetes", "iron", "inflam"],
            "in_chain": [
                "cbc",
                "diff",
                "lipids",
                "diabetes",
                "renal",
                "liver",
                "thyroid",
                "vitamins",
                "urine",
            ],
            "hu_lab": [
                "cbc",
                "diff",
                "renal",
                "liver",
                "lipids",
                "inflam",
                "thyroid",
                "coag",
                "minerals",
            ],
            "hu_eeszt": ["cbc", "renal", "lipids", "liver", "thyroid", "diabetes"],
            "pt_hospital": ["cbc", "diff", "renal", "lipids", "liver", "thyroid", "iron"],
            "uk_nhs": ["cbc", "diff", "renal", "liver", "lipids", "thyroid", "diabetes", "inflam"],
            "de_twocol": ["cbc", "diff", "renal", "liver", "lipids", "thyroid", "inflam", "coag"],
            "cumulative": ["cmp", "lipids", "diabetes", "thyroid"],
        }[layout]
        k = 2 + (index % 4) + (3 if index % 5 == 4 else 0)
        chosen = base[: min(len(base), k)]
        if rng.random() < 0.5 and len(base) > k:
            chosen.append(rng.choice(base[k:]))
        return chosen

    def _pick_unit(self, a: Analyte, locale: str, rng: random.Random) -> str:
        pref = {
            "us": US_PREF,
            "in": IN_PREF,
            "hu": HU_PREF,
            "de": SI_PREF,
            "pt": SI_PREF,
            "uk": SI_PREF,
        }[locale]
        if a.id in ("hgb", "mchc") and locale in ("de", "pt"):
            return "g/dL"
        if a.id in ("hgb", "mchc") and locale in ("uk", "hu"):
            return "g/L"
        if a.id == "hba1c" and locale in ("uk",):
            return "mmol/mol"
        if a.id == "hba1c":
            return "%"
        if (
            a.id in ("glucose", "chol", "hdl", "ldl", "tg", "vldl")
            and locale == "de"
            and rng.random() < 0.5
        ):
            return "mg/dL"
        if a.id in ("wbc", "plt") and locale == "in" and rng.random() < 0.3:
            return "/uL"
        for u in pref:
            if a.accepts(u):
                return u
        return a.canonical_unit

    def _row(
        self,
        a: Analyte,
        layout: str,
        locale: str,
        panel: str,
        rng: random.Random,
        comma: bool,
        sex: str,
    ) -> Row:
        names = NAMES.get(locale, {})
        printed_name = names.get(a.id) or a.preferred_name
        if (a.qualitative and not a.accepts("mg/dL")) or a.id in (
            "u_color",
            "u_appearance",
            "u_nitrite",
            "u_le",
            "u_blood",
        ):
            vals = list(a.values) or ["Negative", "Positive"]
            normal = a.normal or vals[0]
            v = normal if rng.random() < 0.75 else rng.choice(vals)
            return Row(
                a,
                printed_name,
                v,
                v,
                None,
                "",
                None,
                None,
                normal if normal in ("Negative",) else "",
                None,
                panel,
            )
        if a.qualitative:  # urine strip: mostly Negative, sometimes graded
            v = "Negative" if rng.random() < 0.7 else rng.choice(["Trace", "1+", "2+"])
            return Row(
                a,
                printed_name,
                v,
                v,
                None,
                "",
                None,
                None,
                "Negative",
                "A" if v != "Negative" and layout == "us_classic" else None,
                panel,
            )
        ucum = self._pick_unit(a, locale, rng)
        lo, hi = a.ref_low, a.ref_high
        if lo is None and hi is None:
            lo, hi = 1.0, 10.0
        c_lo = lo if lo is not None else (hi or 1) * 0.3
        c_hi = hi if hi is not None else (lo or 1) * 2.5
        roll = rng.random()
        if roll < 0.12:
            canon = c_hi * rng.uniform(1.08, 1.5)
        elif roll < 0.2 and c_lo > 0:
            canon = c_lo * rng.uniform(0.8, 0.95)
        else:
            canon = rng.uniform(c_lo, c_hi) if c_hi > c_lo else c_lo
        v = a.convert(canon, a.canonical_unit, ucum) if ucum != a.canonical_unit else canon
        dec = _decimals(v)
        if ucum == "/uL":
            v = round(v / 100) * 100
            dec = 0
        if a.id == "u_sg":
            v, dec = rng.choice([1.010, 1.015, 1.020, 1.025]), 3
        if a.id == "u_ph":
            v, dec = rng.choice([5.0, 5.5, 6.0, 6.5, 7.0]), 1
        v = round(v, dec)

        def conv(x: float | None) -> float | None:
            if x is None:
                return None
            y = a.convert(x, a.canonical_unit, ucum) if ucum != a.canonical_unit else x
            return round(y, max(dec, _decimals(y) if y else 0))

        r_lo, r_hi = conv(lo), conv(hi)
        if a.id == "u_sg":
            r_lo, r_hi = 1.005, 1.030
        flag = None
        if r_hi is not None and v > r_hi:
            flag = "H"
        elif r_lo is not None and v < r_lo:
            flag = "L"
        value_text = fmt(v, dec, comma)
        if ucum == "/uL" and not comma:
            value_text = f"{int(v):,}"
        value: float | str = float(v)
        # censored values
        if a.id == "crp" and v < 1 and layout in ("hu_lab", "de_twocol", "us_portal"):
            value_text = (
                ("<" + fmt(1.0, 1, comma)) if layout != "hu_lab" else "<" + fmt(0.35, 2, comma)
            )
            value = value_text.replace(",", ".")
            flag = None
        if a.id == "egfr" and layout == "us_classic" and v > 60 and rng.random() < 0.5:
            value_text, value, flag = ">60", ">60", None
        r_lo_t = _auto(r_lo, comma) if r_lo is not None else None
        r_hi_t = _auto(r_hi, comma) if r_hi is not None else None
        if r_lo is not None and r_hi is not None:
            ref_printed = f"{r_lo_t}-{r_hi_t}"
        elif r_hi is not None:
            ref_printed = f"<{r_hi_t}"
        else:
            ref_printed = f">{r_lo_t}"
        if a.id == "u_sg":
            ref_printed = "1.005-1.030"
        if layout == "in_chain" and a.id == "hgb" and ucum == "g/dL":
            r_lo, r_hi = (13.0, 17.0) if sex == "M" else (12.0, 15.0)
        if layout == "in_chain" and a.id == "hba1c":
            r_lo, r_hi = None, 5.7
        if layout == "in_chain" and a.id in ("chol", "tg") and ucum == "mg/dL":
            r_lo, r_hi = None, (200.0 if a.id == "chol" else 150.0)
        flag = None
        if r_hi is not None and (v > r_hi or (r_lo is None and v >= r_hi)):
            flag = "H"
        elif r_lo is not None and v < r_lo:
            flag = "L"
        if layout in ("in_chain", "pt_hospital"):
            flag = None  # these layouts mark abnormal values in bold only: no printed flag
        row = Row(
            a,
            printed_name,
            value_text,
            value,
            ucum,
            unit_spelling(ucum, layout, rng),
            r_lo,
            r_hi,
            ref_printed,
            flag,
            panel,
        )
        if ref_printed.startswith(">") and r_lo is not None:
            row.extra["ge"] = True
        return row

    def _cumulative(self, rep: Report, rng: random.Random) -> None:
        n = 3
        dates = sorted(
            {rep.collected - timedelta(days=rng.randint(30, 400)) for _ in range(n - 1)}
            | {rep.collected}
        )
        rep.dates = dates
        for row in rep.rows:
            cols: list[tuple[Row | None, date]] = []
            for d in dates:
                if d != rep.collected and rng.random() < 0.15:
                    cols.append((None, d))
                    continue
                if row.analyte is None or isinstance(row.value, str):
                    cols.append((row if d == rep.collected else None, d))
                    continue
                f = 1.0 if d == rep.collected else rng.uniform(0.85, 1.15)
                v = round(float(row.value) * f, _decimals(float(row.value)))
                flag = None
                if row.ref_high is not None and v > row.ref_high:
                    flag = "H"
                elif row.ref_low is not None and v < row.ref_low:
                    flag = "L"
                r2 = Row(
                    row.analyte,
                    row.printed_name,
                    fmt(v, _decimals(float(row.value)), False),
                    v,
                    row.unit_ucum,
                    row.unit_printed,
                    row.ref_low,
                    row.ref_high,
                    row.ref_printed,
                    flag,
                    row.panel,
                )
                cols.append((r2, d))
            rep.cum_rows.append((row, cols))

    # ---- truth
    def truth(self, rep: Report, pages: int) -> dict[str, Any]:
        results = []
        if rep.layout == "cumulative":
            # only today's column holds this report's results; earlier columns are history
            items = [
                (r, d)
                for _, cols in rep.cum_rows
                for r, d in cols
                if r is not None and r.analyte is not None and d == rep.collected
            ]
        else:
            items = [(r, rep.collected) for r in rep.rows if r.analyte is not None]
        for r, d in items:
            assert r.analyte is not None
            unitless = r.analyte.canonical_unit in ("{ratio}", "{INR}", "[pH]", "1", "")
            results.append(
                {
                    "analyte": r.analyte.id,
                    "loinc": r.analyte.loinc,
                    "printed_name": r.printed_name,
                    "value": r.value,
                    "unit": r.unit_printed or None,
                    "unit_ucum": (
                        r.unit_ucum if not unitless else (r.analyte.canonical_unit or None)
                    )
                    if not isinstance(r.value, str) or r.value[:1] in "<>"
                    else None,
                    "ref_low": r.ref_low,
                    "ref_high": r.ref_high,
                    "flag": r.flag,
                    "date": d.isoformat(),
                }
            )
        return {
            "id": rep.id,
            "layout": rep.layout,
            "seed": rep.seed,
            "pages": pages,
            "lab_name": rep.lab,
            "patient_name": rep.patient_printed,
            "patient_birth_date": rep.dob.isoformat(),
            "patient_sex": rep.sex,
            "collection_date": rep.collected.isoformat(),
            "received_date": rep.received.isoformat(),
            "reported_date": rep.reported.isoformat(),
            "results": results,
            "unmatched_expected": rep.unknown,
        }


def _auto(x: float, comma: bool) -> str:
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return s.replace(".", ",") if comma else s


# ============================================================================ rendering
class Doc:
    def __init__(self, fmt_name: str = "A4") -> None:
        self.pdf = FPDF(unit="pt", format=fmt_name)
        self.pdf.set_auto_page_break(False)
        self.pdf.set_compression(True)
        self.unicode = False
        for d in FONT_DIRS:
            reg, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
            if reg.is_file() and bold.is_file():
                self.pdf.add_font("DejaVu", "", str(reg))
                self.pdf.add_font("DejaVu", "B", str(bold))
                self.unicode = True
                break
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.width = self.pdf.w
        self.height = self.pdf.h
        self.y = 0.0
        self.page_header: Callable[[Doc], None] | None = None
        self.pages = 0

    def safe(self, s: str) -> str:
        if self.unicode:
            return s
        repl = {
            "ő": "ö",
            "ű": "ü",
            "Ő": "Ö",
            "Ű": "Ü",
            "≤": "<=",
            "≥": ">=",
            "–": "-",
            "³": "3",
            "²": "2",
            "µ": "u",
            "ß": "ss",
        }
        out = "".join(repl.get(ch, ch) for ch in s)
        return out.encode("latin-1", "replace").decode("latin-1")

    def new_page(self) -> None:
        self.pdf.add_page()
        self.pages += 1
        self.y = 40.0
        if self.page_header:
            self.page_header(self)

    def text(
        self, x: float, y: float, s: str, size: float = 9, bold: bool = False, align: str = "L"
    ) -> None:
        if not s:
            return
        s = self.safe(s)
        self.pdf.set_font(self.family, "B" if bold else "", size)
        if align == "R":
            x -= self.pdf.get_string_width(s)
        elif align == "C":
            x -= self.pdf.get_string_width(s) / 2
        self.pdf.text(x, y, s)

    def width_of(self, s: str, size: float = 9) -> float:
        self.pdf.set_font(self.family, "", size)
        return float(self.pdf.get_string_width(self.safe(s)))

    def hline(self, y: float, x0: float = 36, x1: float | None = None, w: float = 0.5) -> None:
        self.pdf.set_line_width(w)
        self.pdf.line(x0, y, x1 if x1 is not None else self.width - 36, y)

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.set_line_width(0.4)
        self.pdf.rect(x, y, w, h)

    def ensure(self, space: float) -> bool:
        if self.y + space > self.height - 50:
            self.new_page()
            return True
        return False

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _dfmt(d: date, style: str) -> str:
    mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
        d.month - 1
    ]
    return {
        "us": f"{d.month:02d}/{d.day:02d}/{d.year}",
        "in": f"{d.day:02d}/{mon}/{d.year}",
        "hu": f"{d.year}.{d.month:02d}.{d.day:02d}.",
        "iso": d.isoformat(),
        "eu": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "de": f"{d.day:02d}.{d.month:02d}.{d.year}",
    }[style]


def _titles(rep: Report, locale: str) -> dict[str, str]:
    return PANEL_TITLES.get(locale, PANEL_TITLES["en"])


def _grouped(rep: Report) -> list[tuple[str, list[Row]]]:
    out: list[tuple[str, list[Row]]] = []
    for r in rep.rows:
        if not out or out[-1][0] != r.panel:
            out.append((r.panel, []))
        out[-1][1].append(r)
    return out


def _flag_word(flag: str | None, style: str) -> str:
    if flag is None:
        return ""
    return {
        "word": {"H": "High", "L": "Low", "A": "Abnormal"},
        "letter": {"H": "H", "L": "L", "A": "A"},
        "hu": {"H": "magas", "L": "alacsony", "A": "kóros"},
        "star": {"H": "H*", "L": "L*", "A": "*"},
    }[style].get(flag, flag)


def render(rep: Report) -> tuple[bytes, int]:
    fn = {
        "us_classic": _render_us_classic,
        "us_portal": _render_us_portal,
        "in_chain": _render_in_chain,
        "in_hospital": _render_in_hospital,
        "hu_lab": _render_hu_lab,
        "hu_eeszt": _render_hu_eeszt,
        "pt_hospital": _render_pt,
        "uk_nhs": _render_uk,
        "de_twocol": _render_de,
        "cumulative": _render_cumulative,
    }[rep.layout]
    doc = fn(rep)
    return doc.output(), doc.pages


def _range_style(r: Row, style: str, comma: bool) -> str:
    t = r.ref_printed
    if not t:
        return ""
    if style == "spaced":
        return t.replace("-", " - ", 1) if not t.startswith(("<", ">")) else t[0] + " " + t[1:]
    if style == "dash":
        return t.replace("-", " – ", 1) if not t.startswith(("<", ">")) else t
    if style == "bracket":
        return f"[{t.replace('-', ' - ', 1)}]" if not t.startswith(("<", ">")) else t
    if style == "paren":
        return f"({t.replace('-', ' - ', 1)})" if not t.startswith(("<", ">")) else t
    if style == "ge" and t.startswith(">"):
        return ">=" + t[1:]
    return t


# --------------------------------------------------------------------------- US classic
def _render_us_classic(rep: Report) -> Doc:
    doc = Doc("Letter")
    rng = random.Random(rep.id)
    cols = {"name": 40, "cur": 230, "prev": 330, "unit": 430, "ref": 505}

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 14, True)
        d.text(40, 54, "1447 York Court, Burlington, NC 27215  Phone: 800-555-0100", 8)
        d.text(40, 74, f"Patient Name: {rep.patient_printed}", 9)
        d.text(300, 74, f"DOB: {_dfmt(rep.dob, 'us')}", 9)
        d.text(430, 74, f"Sex: {'Male' if rep.sex == 'M' else 'Female'}", 9)
        d.text(40, 88, f"Date Collected: {_dfmt(rep.collected, 'us')} 0815 Local", 9)
        d.text(300, 88, f"Date Received: {_dfmt(rep.received, 'us')}", 9)
        d.text(40, 102, f"Date Reported: {_dfmt(rep.reported, 'us')} 1402 ET", 9)
        d.text(300, 102, "Specimen ID: 123-456-7890-0", 9)
        d.hline(110)
        y = 124
        d.text(cols["name"], y, "Test", 8, True)
        d.text(cols["cur"], y, "Current Result and Flag", 8, True)
        d.text(cols["prev"], y, "Previous Result and Date", 8, True)
        d.text(cols["unit"], y, "Units", 8, True)
        d.text(cols["ref"], y, "Reference Interval", 8, True)
        d.hline(128)
        d.y = 146

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.ensure(40)
        doc.text(40, doc.y, _titles(rep, "en")[panel], 9, True)
        doc.y += 14
        for r in rows:
            doc.ensure(14)
            code = "01" if r.analyte is None or r.analyte.category != "urinalysis" else "02"
            doc.text(cols["name"] + 8, doc.y, f"{r.printed_name}", 9)
            doc.text(cols["cur"] - 22, doc.y, code, 7)
            doc.text(
                cols["cur"],
                doc.y,
                (r.value_text + ("  " + _flag_word(r.flag, "word") if r.flag else "")),
                9,
            )
            if rng.random() < 0.4 and not isinstance(r.value, str):
                prev_d = rep.collected - timedelta(days=rng.randint(60, 500))
                doc.text(cols["prev"], doc.y, f"{r.value_text}   {_dfmt(prev_d, 'us')}", 8)
            doc.text(cols["unit"], doc.y, r.unit_printed, 9)
            doc.text(
                cols["ref"],
                doc.y,
                _range_style(r, "ge" if r.extra.get("ge") else "plain", False),
                9,
            )
            doc.y += 14
            if (
                r.analyte is not None
                and r.analyte.id in ("hba1c", "ldl", "egfr", "vitd")
                and rng.random() < 0.7
            ):
                note = {
                    "hba1c": "Please Note: Prediabetes: 5.7 - 6.4 Diabetes: >6.4 Glycemic control for adults with diabetes: <7.0",
                    "ldl": "Please Note: The LDL cholesterol is calculated using the NIH equation; values below 70 mg/dL are optimal for some patients.",
                    "egfr": "Please Note: The eGFR is calculated with the CKD-EPI 2021 equation, which does not use a race coefficient.",
                    "vitd": "Vitamin D deficiency has been defined by the Institute of Medicine as a level below 20 ng/mL (1).",
                }[r.analyte.id]
                doc.text(cols["name"] + 8, doc.y, note, 7)
                doc.y += 12
    doc.ensure(30)
    doc.text(
        40,
        doc.y + 10,
        "01 Quantum Clinical Laboratories, Burlington, NC 27215 Dir: Jane Roe, MD",
        7,
    )
    return doc


# --------------------------------------------------------------------------- US portal
def _render_us_portal(rep: Report) -> Doc:
    doc = Doc("Letter")
    ruled = rep.seed % 2 == 0 or rep.id.endswith(("1", "3"))
    cols = {"name": 40, "in": 250, "out": 320, "ref": 400, "lab": 540}

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 15, True)
        d.text(40, 56, "Patient Information", 8, True)
        d.text(40, 70, f"{rep.patient_printed}", 10, True)
        d.text(
            40,
            84,
            f"DOB: {_dfmt(rep.dob, 'us')}   AGE: {max(0, rep.collected.year - rep.dob.year)}   GENDER: {'M' if rep.sex == 'M' else 'F'}",
            8,
        )
        d.text(330, 70, f"Collected: {_dfmt(rep.collected, 'us')} 07:41 AM", 8)
        d.text(330, 82, f"Received: {_dfmt(rep.received, 'us')} 11:03 AM", 8)
        d.text(330, 94, f"Reported: {_dfmt(rep.reported, 'us')} 06:12 PM", 8)
        d.hline(104)
        y = 118
        for key, label in [
            ("name", "Test Name"),
            ("in", "In Range"),
            ("out", "Out Of Range"),
            ("ref", "Reference Range"),
            ("lab", "Lab"),
        ]:
            d.text(cols[key], y, label, 8, True)
        d.hline(123)
        d.y = 138

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.ensure(40)
        doc.text(40, doc.y, _titles(rep, "en")[panel].upper(), 9, True)
        doc.y += 14
        for r in rows:
            doc.ensure(14)
            doc.text(cols["name"] + 6, doc.y, r.printed_name.upper(), 8)
            if r.flag:
                doc.text(cols["out"], doc.y, f"{r.value_text} {r.flag}", 8, True)
            else:
                doc.text(cols["in"], doc.y, r.value_text, 8)
            ref = (
                _range_style(r, "plain", False).replace(">", "> OR = ")
                if r.extra.get("ge")
                else _range_style(r, "plain", False)
            )
            if ref and r.unit_printed:
                ref += " " + r.unit_printed
            elif not ref and r.unit_printed:
                ref = r.unit_printed
            doc.text(cols["ref"], doc.y, ref, 8)
            doc.text(cols["lab"], doc.y, "EN", 8)
            if ruled:
                doc.hline(doc.y + 4, 40, None, 0.2)
            doc.y += 14
            if r.analyte is not None and r.analyte.id == "ldl":
                for note in [
                    "Desirable range <100 mg/dL for primary prevention;",
                    "<70 mg/dL for patients with CHD or diabetic patients",
                    "with > or = 2 CHD risk factors.",
                ]:
                    doc.ensure(11)
                    doc.text(cols["name"] + 12, doc.y, note, 7)
                    doc.y += 10
    return doc


# --------------------------------------------------------------------------- Indian chain
def _render_in_chain(rep: Report) -> Doc:
    doc = Doc("A4")
    rng = random.Random(rep.id)
    cols = {"name": 40, "res": 250, "unit": 330, "ref": 420}
    split_hdr = rng.random() < 0.5

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 16, True)
        d.text(40, 54, "National Reference Lab, Sector 18, Block-E, Rohini, New Delhi 110085", 7)
        d.text(40, 76, f"Name       : {rep.patient_printed}", 9)
        d.text(330, 76, f"Collected  : {_dfmt(rep.collected, 'in')} 8:15:00AM", 9)
        d.text(
            40,
            90,
            f"Age/Sex    : {max(0, rep.collected.year - rep.dob.year)} Years / {'Male' if rep.sex == 'M' else 'Female'}",
            9,
        )
        d.text(330, 90, f"Received   : {_dfmt(rep.received, 'in')} 10:42:00AM", 9)
        d.text(40, 104, "Ref By     : Dr. SELF", 9)
        d.text(330, 104, f"Reported   : {_dfmt(rep.reported, 'in')} 4:10:00PM", 9)
        d.hline(112)
        y = 126
        d.text(cols["name"], y, "Test Name", 9, True)
        d.text(cols["res"], y, "Results", 9, True)
        d.text(cols["unit"], y, "Units", 9, True)
        if split_hdr:
            d.text(cols["ref"], y, "Bio. Ref.", 9, True)
            d.text(cols["ref"], y + 10, "Interval", 9, True)
            d.hline(y + 14)
            d.y = y + 30
        else:
            d.text(cols["ref"], y, "Bio. Ref. Interval", 9, True)
            d.hline(y + 5)
            d.y = y + 22

    doc.page_header = header
    doc.new_page()
    methods = [
        "Photometry",
        "Calculated",
        "Electrical Impedance",
        "HPLC",
        "CLIA",
        "Enzymatic",
        "Spectrophotometry",
    ]
    for panel, rows in _grouped(rep):
        doc.ensure(50)
        doc.text(40, doc.y, _titles(rep, "en")[panel].upper(), 10, True)
        doc.y += 16
        if panel == "diff":
            abs_started = False
        for r in rows:
            if (
                panel == "diff"
                and r.analyte is not None
                and r.analyte.id.endswith("_abs")
                and not abs_started
            ):
                abs_started = True
                doc.ensure(30)
                doc.text(
                    40, doc.y, "ABSOLUTE COUNTS" if False else "Absolute Leucocyte Count", 9, True
                )
                doc.y += 14
            doc.ensure(24)
            doc.text(cols["name"], doc.y, r.printed_name, 9)
            doc.text(cols["res"], doc.y, r.value_text, 9, bool(r.flag))
            doc.text(cols["unit"], doc.y, r.unit_printed, 9)
            lines = _in_ranges(r)
            for k, ln in enumerate(lines):
                doc.text(cols["ref"], doc.y + 11 * k, ln, 8)
            if rng.random() < 0.5 and r.analyte is not None and not (len(lines) > 1):
                doc.text(cols["name"], doc.y + 9, rng.choice(methods), 6)
                doc.y += 9
            doc.y += max(14, 11 * len(lines) + 3)
        if panel in ("lipids", "diabetes") and rng.random() < 0.8:
            doc.ensure(60)
            doc.text(40, doc.y, "Interpretation", 8, True)
            doc.y += 11
            for para in [
                "1. Measurements in the same patient can show physiological and analytical variations. Three serial samples",
                "1 week apart are recommended for total cholesterol, triglycerides, HDL and LDL cholesterol.",
                "2. As per NLA-2014 guidelines, all adults above the age of 20 years should be screened for lipid status.",
            ]:
                doc.text(40, doc.y, para, 7)
                doc.y += 10
            doc.y += 8
    doc.ensure(20)
    doc.text(250, doc.y + 8, "*** End Of Report ***", 8, True)
    return doc


def _in_ranges(r: Row) -> list[str]:
    a = r.analyte
    if a is None:
        return [r.ref_printed]
    if a.id == "chol":
        return (
            ["Desirable: < 200", "Borderline high: 200 - 239", "High: >= 240"]
            if r.unit_ucum == "mg/dL"
            else [r.ref_printed]
        )
    if a.id == "tg":
        return (
            ["Normal: < 150", "Borderline high: 150 - 199", "High: 200 - 499", "Very high: >= 500"]
            if r.unit_ucum == "mg/dL"
            else [r.ref_printed]
        )
    if a.id == "hba1c":
        return ["Non-diabetic: < 5.7", "Prediabetes: 5.7 - 6.4", "Diabetes: >= 6.5"]
    if a.id == "hgb" and r.ref_low is not None and r.ref_high is not None:
        return [f"Male: {13.0:.1f} - {17.0:.1f}", f"Female: {12.0:.1f} - {15.0:.1f}"]
    return [r.ref_printed] if r.ref_printed else []


# --------------------------------------------------------------------------- Indian hospital
def _render_in_hospital(rep: Report) -> Doc:
    doc = Doc("A4")
    cols = {"name": 44, "res": 250, "unit": 330, "ref": 430}
    x_edges = [40, 245, 325, 425, 555]

    def header(d: Doc) -> None:
        d.text(297, 40, rep.lab, 15, True, "C")
        d.text(297, 54, "Department of Pathology", 9, False, "C")
        d.text(40, 76, f"Patient Name: {rep.patient_printed}", 9)
        d.text(330, 76, f"Sample Collected On: {_dfmt(rep.collected, 'eu')}", 9)
        d.text(40, 90, f"Age / Sex: {max(0, rep.collected.year - rep.dob.year)} Y / {rep.sex}", 9)
        d.text(330, 90, f"Reported On: {_dfmt(rep.reported, 'eu')}", 9)
        d.text(40, 104, "UHID: SMH-2024-118833", 9)
        d.text(330, 104, f"Received On: {_dfmt(rep.received, 'eu')}", 9)
        d.y = 120
        d.rect(40, d.y, 515, 16)
        for x in x_edges[1:-1]:
            d.pdf.line(x, d.y, x, d.y + 16)
        for key, label in [
            ("name", "Investigation"),
            ("res", "Result"),
            ("unit", "Unit"),
            ("ref", "Ref. Range"),
        ]:
            d.text(cols[key], d.y + 11, label, 9, True)
        d.y += 16

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.rect(40, doc.y, 515, 15)
        doc.text(
            44,
            doc.y + 11,
            "DIFFERENTIAL COUNT" if panel == "diff" else "COMPLETE BLOOD COUNT",
            9,
            True,
        )
        doc.y += 15
        abs_done = False
        for r in rows:
            if (
                panel == "diff"
                and r.analyte is not None
                and r.analyte.id.endswith("_abs")
                and not abs_done
            ):
                abs_done = True
                doc.rect(40, doc.y, 515, 15)
                doc.text(44, doc.y + 11, "ABSOLUTE COUNT", 9, True)
                doc.y += 15
            doc.ensure(15)
            doc.rect(40, doc.y, 515, 15)
            for x in x_edges[1:-1]:
                doc.pdf.line(x, doc.y, x, doc.y + 15)
            doc.text(cols["name"], doc.y + 11, r.printed_name, 9)
            doc.text(
                cols["res"],
                doc.y + 11,
                r.value_text + (f" {r.flag}" if r.flag else ""),
                9,
                bool(r.flag),
            )
            doc.text(cols["unit"], doc.y + 11, r.unit_printed, 9)
            doc.text(cols["ref"], doc.y + 11, _range_style(r, "spaced", False), 9)
            doc.y += 15
    doc.y += 20
    doc.text(40, doc.y, "Note: Differential counts verified by peripheral smear examination.", 8)
    return doc


# --------------------------------------------------------------------------- Hungarian lab
def _render_hu_lab(rep: Report) -> Doc:
    doc = Doc("A4")
    cols = {"name": 40, "res": 230, "flag": 290, "ref": 370, "unit": 470}

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 14, True)
        d.text(40, 54, "1036 Budapest, Minta utca 12.  Tel.: +36 1 555 0100", 8)
        d.text(40, 74, f"Név: {rep.patient_printed}", 9)
        d.text(300, 74, f"Születési dátum: {_dfmt(rep.dob, 'hu')}", 9)
        d.text(40, 88, "TAJ szám: 000 000 000", 9)
        d.text(300, 88, f"Nem: {'férfi' if rep.sex == 'M' else 'nő'}", 9)
        d.text(40, 102, f"Mintavétel ideje: {_dfmt(rep.collected, 'hu')} 07:45", 9)
        d.text(300, 102, f"Beérkezés: {_dfmt(rep.received, 'hu')} 09:10", 9)
        d.text(40, 116, f"Lelet kiadása: {_dfmt(rep.reported, 'hu')}", 9)
        d.hline(124)
        y = 138
        for key, label in [
            ("name", "Vizsgálat"),
            ("res", "Eredmény"),
            ("flag", "Minősítés"),
            ("ref", "Referencia"),
            ("unit", "Mértékegység"),
        ]:
            d.text(cols[key], y, label, 9, True)
        d.hline(143)
        d.y = 158

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.ensure(40)
        doc.text(40, doc.y, _titles(rep, "hu")[panel], 10, True)
        doc.y += 15
        for r in rows:
            doc.ensure(14)
            doc.text(cols["name"] + 6, doc.y, r.printed_name, 9)
            doc.text(cols["res"] + 40, doc.y, r.value_text, 9, False, "R")
            doc.text(cols["flag"], doc.y, _flag_word(r.flag, "hu"), 9)
            doc.text(cols["ref"], doc.y, _range_style(r, "spaced", True), 9)
            doc.text(cols["unit"], doc.y, r.unit_printed, 9)
            doc.y += 14
    return doc


# --------------------------------------------------------------------------- Hungarian e-health
def _render_hu_eeszt(rep: Report) -> Doc:
    doc = Doc("A4")
    cols = {"loinc": 40, "name": 100, "res": 290, "ref": 400, "stat": 500}

    def header(d: Doc) -> None:
        d.text(40, 40, "Laboratóriumi lelet", 13, True)
        d.text(40, 56, rep.lab, 10)
        d.text(40, 76, f"Beteg neve: {rep.patient_printed}", 9)
        d.text(320, 76, f"Születési dátum: {_dfmt(rep.dob, 'iso')}", 9)
        d.text(40, 90, f"Mintavétel időpontja: {_dfmt(rep.collected, 'iso')} 08:05", 9)
        d.text(320, 90, f"Beérkezés ideje: {_dfmt(rep.received, 'iso')}", 9)
        d.text(40, 104, f"Validálva: {_dfmt(rep.reported, 'iso')}", 9)
        d.hline(112)
        y = 126
        for key, label in [
            ("loinc", "LOINC"),
            ("name", "Vizsgálat"),
            ("res", "Eredmény"),
            ("ref", "Referenciatartomány"),
            ("stat", "Státusz"),
        ]:
            d.text(cols[key], y, label, 8, True)
        d.hline(131)
        d.y = 146

    doc.page_header = header
    doc.new_page()
    for _panel, rows in _grouped(rep):
        for r in rows:
            doc.ensure(14)
            if r.analyte is not None:
                code = r.analyte.loinc
                if (
                    r.unit_ucum
                    and r.analyte.accepts(r.unit_ucum)
                    and len(r.analyte.loincs) > 1
                    and r.unit_ucum in ("mmol/L", "umol/L")
                ):
                    code = r.analyte.loincs[1]
                doc.text(cols["loinc"], doc.y, code, 8)
            doc.text(cols["name"], doc.y, r.printed_name, 8)
            doc.text(cols["res"], doc.y, f"{r.value_text} {r.unit_printed}".strip(), 8)
            doc.text(cols["ref"], doc.y, _range_style(r, "spaced", True), 8)
            doc.text(
                cols["stat"], doc.y, {"H": "magas", "L": "alacsony"}.get(r.flag or "", "normál"), 8
            )
            doc.y += 13
    return doc


# --------------------------------------------------------------------------- Portuguese
def _render_pt(rep: Report) -> Doc:
    doc = Doc("A4")
    rng = random.Random(rep.id)
    cols = {"name": 40, "res": 230, "ref": 340, "hist": 460}

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 14, True)
        d.text(40, 54, "Serviço de Patologia Clínica", 9)
        d.text(40, 74, f"Nome: {rep.patient_printed}", 9)
        d.text(330, 74, f"Data de nascimento: {_dfmt(rep.dob, 'eu')}", 9)
        d.text(40, 88, "N.º Utente: 000000000", 9)
        d.text(330, 88, f"Data de colheita: {_dfmt(rep.collected, 'eu')}", 9)
        d.text(40, 102, f"Data de receção: {_dfmt(rep.received, 'eu')}", 9)
        d.text(330, 102, f"Validado em: {_dfmt(rep.reported, 'eu')}", 9)
        d.hline(110)
        y = 124
        d.text(cols["res"], y, "Resultado / Unidades", 8, True)
        d.text(cols["ref"], y, "Valores de Referência", 8, True)
        d.text(cols["hist"], y, "Histórico", 8, True)
        d.hline(129)
        d.y = 144

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.ensure(40)
        doc.text(40, doc.y, _titles(rep, "pt")[panel].upper(), 9, True)
        doc.y += 14
        for r in rows:
            doc.ensure(14)
            doc.text(cols["name"] + 4, doc.y, r.printed_name, 9)
            doc.text(
                cols["res"], doc.y, f"{r.value_text} {r.unit_printed}".strip(), 9, bool(r.flag)
            )
            doc.text(cols["ref"], doc.y, _range_style(r, "spaced", True), 9)
            if rng.random() < 0.6 and not isinstance(r.value, str):
                prev = rep.collected - timedelta(days=rng.randint(40, 400))
                doc.text(cols["hist"], doc.y, f"{r.value_text} ({_dfmt(prev, 'eu')})", 7)
            doc.y += 14
    return doc


# --------------------------------------------------------------------------- UK NHS (no table header)
def _render_uk(rep: Report) -> Doc:
    doc = Doc("A4")

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 13, True)
        d.text(
            40, 54, "Blood Sciences Laboratory  -  UKAS accredited medical laboratory No. 0000", 7
        )
        d.text(40, 74, f"Patient: {rep.patient_printed}", 9)
        d.text(330, 74, f"DOB: {_dfmt(rep.dob, 'eu')}", 9)
        d.text(40, 88, "NHS Number: 000 000 0000", 9)
        d.text(330, 88, f"Sample collected: {_dfmt(rep.collected, 'eu')} 09:12", 9)
        d.text(40, 102, f"Received: {_dfmt(rep.received, 'eu')} 11:02", 9)
        d.text(330, 102, f"Reported: {_dfmt(rep.reported, 'eu')} 15:40", 9)
        d.hline(110)
        d.y = 130

    doc.page_header = header
    doc.new_page()
    for panel, rows in _grouped(rep):
        doc.ensure(40)
        doc.text(
            40,
            doc.y,
            {
                "cbc": "Full blood count",
                "diff": "Differential",
                "renal": "Renal profile",
                "liver": "Liver profile",
                "lipids": "Lipid profile",
                "thyroid": "Thyroid function",
                "diabetes": "Diabetes",
                "inflam": "Inflammation",
            }.get(panel, panel),
            9,
            True,
        )
        doc.y += 14
        for r in rows:
            doc.ensure(13)
            doc.text(52, doc.y, r.printed_name, 9)
            doc.text(290, doc.y, r.value_text, 9, False, "R")
            if r.flag:
                doc.text(296, doc.y, r.flag, 9, True)
            doc.text(312, doc.y, r.unit_printed, 9)
            doc.text(400, doc.y, _range_style(r, "paren", False), 9)
            doc.y += 13
        doc.y += 6
    doc.ensure(20)
    doc.text(
        40,
        doc.y + 6,
        "Reference ranges are for adults. Results should be interpreted in clinical context.",
        7,
    )
    return doc


# --------------------------------------------------------------------------- German, two columns
def _render_de(rep: Report) -> Doc:
    doc = Doc("A4")
    halves = [36.0, 306.0]
    off = {"name": 0, "res": 112, "unit": 148, "ref": 222}

    def header(d: Doc) -> None:
        d.text(36, 40, rep.lab, 13, True)
        d.text(36, 54, "Fachärzte für Laboratoriumsmedizin, Mikrobiologie und Hygiene", 7)
        d.text(36, 74, f"Patient: {rep.patient_printed}", 9)
        d.text(306, 74, f"Geb.-Datum: {_dfmt(rep.dob, 'de')}", 9)
        d.text(36, 88, f"Entnahme: {_dfmt(rep.collected, 'de')} 08:30", 9)
        d.text(306, 88, f"Eingang: {_dfmt(rep.received, 'de')} 10:15", 9)
        d.text(36, 102, f"Befund: {_dfmt(rep.reported, 'de')}", 9)
        d.text(306, 102, f"Geschlecht: {'männlich' if rep.sex == 'M' else 'weiblich'}", 9)
        d.hline(110)
        y = 124
        for hx in halves:
            d.text(hx + off["name"], y, "Untersuchung", 8, True)
            d.text(hx + off["res"], y, "Ergebnis", 8, True)
            d.text(hx + off["unit"], y, "Einheit", 8, True)
            d.text(hx + off["ref"], y, "Referenz", 8, True)
        d.hline(129)
        d.y = 142

    doc.page_header = header
    doc.new_page()
    items: list[tuple[str, Row | str]] = []
    for panel, rows in _grouped(rep):
        items.append(("h", _titles(rep, "de")[panel]))
        items.extend(("r", r) for r in rows)
    line_h = 12.0
    top = 142.0
    per_col = int((doc.height - 60 - top) / line_h)
    pos = 0
    while pos < len(items):
        if pos:
            doc.new_page()
        for hx in halves:
            y = top
            for kind, item in items[pos : pos + per_col]:
                if kind == "h":
                    assert isinstance(item, str)
                    doc.text(hx, y, item, 8, True)
                else:
                    assert isinstance(item, Row)
                    doc.text(hx + off["name"], y, item.printed_name, 7.5)
                    doc.text(
                        hx + off["res"],
                        y,
                        item.value_text + (f" {item.flag}" if item.flag else ""),
                        7.5,
                        bool(item.flag),
                    )
                    doc.text(hx + off["unit"], y, item.unit_printed, 7.5)
                    doc.text(hx + off["ref"], y, _range_style(item, "plain", True), 7.5)
                y += line_h
            pos += per_col
            if pos >= len(items):
                break
    return doc


# --------------------------------------------------------------------------- cumulative
def _render_cumulative(rep: Report) -> Doc:
    doc = Doc("A4")
    xs = {"name": 40, "unit": 190, "ref": 270}
    date_x = [340, 420, 500]

    def header(d: Doc) -> None:
        d.text(40, 40, rep.lab, 14, True)
        d.text(40, 54, "Cumulative Results Report  -  2200 Lakeview Drive, Madison, WI 53703", 9)
        d.text(40, 74, f"Patient: {rep.patient_printed}", 9)
        d.text(320, 74, f"DOB: {_dfmt(rep.dob, 'us')}", 9)
        d.text(40, 88, f"Collected: {_dfmt(rep.collected, 'us')}", 9)
        d.text(320, 88, f"Reported: {_dfmt(rep.reported, 'us')}", 9)
        d.text(40, 102, f"Received: {_dfmt(rep.received, 'us')}", 9)
        d.y = 116
        d.rect(36, d.y, 523, 16)
        d.text(xs["name"], d.y + 11, "Test", 8, True)
        d.text(xs["unit"], d.y + 11, "Units", 8, True)
        d.text(xs["ref"], d.y + 11, "Reference", 8, True)
        for x, dt in zip(date_x, rep.dates, strict=False):
            d.text(x, d.y + 11, _dfmt(dt, "us"), 8, True)
        d.y += 16

    doc.page_header = header
    doc.new_page()
    last_panel = None
    for row, cols in rep.cum_rows:
        if row.panel != last_panel:
            doc.ensure(30)
            doc.text(40, doc.y + 11, _titles(rep, "en")[row.panel], 8, True)
            doc.y += 15
            last_panel = row.panel
        doc.ensure(15)
        doc.pdf.set_line_width(0.2)
        doc.pdf.line(36, doc.y + 15, 559, doc.y + 15)
        doc.text(xs["name"], doc.y + 11, row.printed_name, 8)
        doc.text(xs["unit"], doc.y + 11, row.unit_printed, 8)
        doc.text(xs["ref"], doc.y + 11, _range_style(row, "plain", False), 8)
        for x, (r, _d) in zip(date_x, cols, strict=False):
            if r is not None:
                doc.text(x, doc.y + 11, r.value_text + (f" {r.flag}" if r.flag else ""), 8)
        doc.y += 15
    return doc


# ============================================================================ corpus API
def generate_corpus(out: Path, seed: int = 20240305, per_layout: int = 5) -> list[Path]:
    """Write ``per_layout`` reports for each layout into ``out``; return the PDF paths."""
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed)
    paths = []
    for layout in LAYOUTS:
        for i in range(per_layout):
            rep = gen.build(layout, i)
            data, pages = render(rep)
            pdf_path = out / f"{rep.id}.pdf"
            pdf_path.write_bytes(data)
            (out / f"{rep.id}.json").write_text(
                json.dumps(gen.truth(rep, pages), ensure_ascii=False, indent=1), encoding="utf-8"
            )
            paths.append(pdf_path)
    return paths


def big_report(pages: int, seed: int = 7) -> bytes:
    """An exactly ``pages``-page US-classic style report (header + 40 rows per page)."""
    gen = Generator(seed)
    rep = gen.build("us_classic", 4)
    rows = [r for r in rep.rows if r.analyte is not None]
    doc = _render_us_classic(Report(**{**rep.__dict__, "rows": []}))
    k = 0
    while doc.pages < pages:
        doc.new_page()
        for _ in range(40):
            r = rows[k % len(rows)]
            k += 1
            doc.text(48, doc.y, r.printed_name, 9)
            doc.text(
                230, doc.y, r.value_text + (f"  {_flag_word(r.flag, 'word')}" if r.flag else ""), 9
            )
            doc.text(430, doc.y, r.unit_printed, 9)
            doc.text(505, doc.y, r.ref_printed, 9)
            doc.y += 14
    return doc.output()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=20240305)
    ap.add_argument("--per-layout", type=int, default=5)
    args = ap.parse_args(argv)
    paths = generate_corpus(args.out, args.seed, args.per_layout)
    print(f"wrote {len(paths)} reports to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
