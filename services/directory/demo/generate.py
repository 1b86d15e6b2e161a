"""Write the demo organisation of the directory service as five CSV files.

The organisation is a slice of the Government of Uttar Pradesh: the General
Administration Department (secretariat), the Revenue Department with its
head-of-department office the Board of Revenue, and the Collectorates of Lucknow
and Sitapur with two tehsils each. The files are offices.csv, holidays.csv,
posts.csv, users.csv and postings.csv; README.md beside them explains the columns.

Rerun from the repository root (standard library only; the output is the same
on every run, because the only randomness comes from a fixed seed):

    python services/directory/demo/generate.py
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260126
EMAIL_DOMAIN = "up.gov.in"
ROLES = ("system_admin", "office_admin", "dak_clerk", "section_staff", "officer", "supervisor")
LEVELS = ("state", "department", "hod", "district", "office", "section")

# --------------------------------------------------------------------------- offices

@dataclass
class Office:
    code: str
    parent_code: str
    level: str
    name_en: str
    name_hi: str
    weekly_off: str


OFFICES: list[Office] = []


def office(code, parent, level, name_en, name_hi, weekly_off=None) -> Office:
    if weekly_off is None:  # a section or tehsil keeps its parent's weekly off
        weekly_off = next(o.weekly_off for o in OFFICES if o.code == parent)
    o = Office(code, parent, level, name_en, name_hi, weekly_off)
    OFFICES.append(o)
    return o


# --------------------------------------------------------------------------- posts

@dataclass
class Post:
    code: str
    office_code: str
    designation_en: str
    designation_hi: str
    supervisor_code: str
    roles: tuple[str, ...]


POSTS: list[Post] = []


def post(code, office_code, desig_en, desig_hi, supervisor, *roles) -> str:
    POSTS.append(Post(code, office_code, desig_en, desig_hi, supervisor or "", roles))
    return code


def staff(office_code, suffix, supervisor, section, designations):
    """Section staff: section is (en, hi); designations a list of (prefix, en, hi, count, roles)."""
    for prefix, en, hi, count, roles in designations:
        for i in range(1, count + 1):
            n = f" {i}" if count > 1 else ""
            post(f"{prefix}{i}({suffix}){office_code_tail(office_code)}", office_code,
                 f"{en}{n} ({section[0]})", f"{hi}{n} ({section[1]})", supervisor, *roles)


def office_code_tail(office_code: str) -> str:
    return "-" + TAIL[office_code]


TAIL: dict[str, str] = {}  # section office code -> the suffix used in post codes

ASO = ("ASO", "Assistant Section Officer", "सहायक अनुभाग अधिकारी")
RO = ("RO", "Review Officer", "समीक्षा अधिकारी")
SA = ("SA", "Senior Assistant", "वरिष्ठ सहायक")
JA = ("JA", "Junior Assistant", "कनिष्ठ सहायक")
STAFF = ("section_staff",)


def secretariat_department(tail, middle, sections):
    """A secretariat department: head -> middle officers -> DS -> US -> SO -> staff.

    sections: (code, en, hi, ds_key, ro, aso, extra) where extra is a callable
    adding special posts in that section (it receives the SO post code).
    """
    for code, *_ in sections:
        TAIL[code] = tail
    ds_posts: dict[str, str] = {}
    for code, en, hi, ds_key, n_ro, n_aso, extra in sections:
        key = code.split("-", 1)[1]
        if ds_key not in ds_posts:
            ds_en, ds_hi, js = middle[ds_key]
            ds_posts[ds_key] = post(f"DS({ds_key})-{tail}", tail, f"Deputy Secretary ({ds_en})",
                                    f"उप सचिव ({ds_hi})", js, "officer")
        us = post(f"US({key})-{tail}", code, f"Under Secretary ({en})", f"अनु सचिव ({hi})",
                  ds_posts[ds_key], "officer")
        so = post(f"SO({key})-{tail}", code, f"Section Officer ({en})", f"अनुभाग अधिकारी ({hi})",
                  us, "officer")
        staff(code, key, so, (en, hi), [(*RO, n_ro, STAFF), (*ASO, n_aso, STAFF)])
        if extra:
            extra(so)


def build_offices_and_posts():
    office("UP", "", "state", "Government of Uttar Pradesh", "उत्तर प्रदेश सरकार", "SUN")

    # ---- General Administration Department (secretariat, five-day week)
    office("GAD", "UP", "department", "General Administration Department",
           "सामान्य प्रशासन विभाग", "SAT;SUN")
    gad_sections = [
        ("GAD-EST", "Establishment", "अधिष्ठान"),
        ("GAD-CR", "Central Registry", "केंद्रीय रजिस्ट्री"),
        ("GAD-ACC", "Accounts", "लेखा"),
        ("GAD-IT", "Information Technology", "सूचना प्रौद्योगिकी"),
        ("GAD-RTI", "Right to Information", "सूचना का अधिकार"),
        ("GAD-ADM", "Administration", "प्रशासन"),
    ]
    for code, en, hi in gad_sections:
        office(code, "GAD", "section", f"{en} Section, GAD", f"{hi} अनुभाग, सामान्य प्रशासन विभाग")

    post("SECY(GAD)", "GAD", "Secretary, General Administration", "सचिव, सामान्य प्रशासन",
         "", "officer", "supervisor")
    post("PS(SECY)-GAD", "GAD", "Private Secretary to Secretary", "सचिव के निजी सचिव",
         "SECY(GAD)", "section_staff")
    post("SPLSECY(GAD)", "GAD", "Special Secretary, General Administration",
         "विशेष सचिव, सामान्य प्रशासन", "SECY(GAD)", "officer")
    post("JS(GAD)", "GAD", "Joint Secretary, General Administration", "संयुक्त सचिव, सामान्य प्रशासन",
         "SPLSECY(GAD)", "officer")
    post("JS(ADM)-GAD", "GAD", "Joint Secretary (Administration)", "संयुक्त सचिव (प्रशासन)",
         "SPLSECY(GAD)", "officer")

    def gad_cr(so):
        for i in (1, 2, 3):
            post(f"DAKCLK{i}-GAD", "GAD-CR", f"Dak Clerk {i}, Central Registry",
                 f"डाक लिपिक {i}, केंद्रीय रजिस्ट्री", so, "dak_clerk")

    def gad_it(so):
        post("SYSADM-GAD-IT", "GAD-IT", "System Administrator, e-Office",
             "सिस्टम प्रशासक, ई-ऑफिस", so, "system_admin")
        post("PROG1(IT)-GAD", "GAD-IT", "Programmer", "प्रोग्रामर", so, "section_staff")

    def gad_adm(so):
        post("EOADM-GAD", "GAD-ADM", "e-Office Administrator, GAD", "ई-ऑफिस प्रशासक, सा.प्र.वि.",
             so, "office_admin")

    secretariat_department(
        "GAD",
        {"EST": ("Establishment", "अधिष्ठान", "JS(GAD)"),
         "ADM": ("Administration", "प्रशासन", "JS(ADM)-GAD")},
        [("GAD-EST", "Establishment", "अधिष्ठान", "EST", 3, 6, None),
         ("GAD-ACC", "Accounts", "लेखा", "EST", 2, 4, None),
         ("GAD-CR", "Central Registry", "केंद्रीय रजिस्ट्री", "ADM", 1, 3, gad_cr),
         ("GAD-IT", "Information Technology", "सूचना प्रौद्योगिकी", "ADM", 1, 2, gad_it),
         ("GAD-RTI", "Right to Information", "सूचना का अधिकार", "ADM", 1, 3, None),
         ("GAD-ADM", "Administration", "प्रशासन", "ADM", 2, 4, gad_adm)],
    )

    # ---- Revenue Department (secretariat) and the Board of Revenue (head of department)
    office("REV", "UP", "department", "Revenue Department", "राजस्व विभाग", "SAT;SUN")
    rev_sections = [
        ("REV-EST", "Establishment", "अधिष्ठान"),
        ("REV-CR", "Central Registry", "केंद्रीय रजिस्ट्री"),
        ("REV-LR", "Land Records", "भू-अभिलेख"),
        ("REV-DM", "Disaster Management", "आपदा प्रबंधन"),
    ]
    for code, en, hi in rev_sections:
        office(code, "REV", "section", f"{en} Section, Revenue", f"{hi} अनुभाग, राजस्व विभाग")
    office("REV-BOR", "REV", "hod", "Board of Revenue", "राजस्व परिषद", "SAT;SUN")
    bor_sections = [
        ("BOR-EST", "Establishment", "अधिष्ठान"),
        ("BOR-CR", "Central Registry", "केंद्रीय रजिस्ट्री"),
        ("BOR-JUD", "Judicial", "न्यायिक"),
        ("BOR-LR", "Land Records", "भू-अभिलेख"),
    ]
    for code, en, hi in bor_sections:
        office(code, "REV-BOR", "section", f"{en} Section, Board of Revenue",
               f"{hi} अनुभाग, राजस्व परिषद")

    post("PRSECY(REV)", "REV", "Principal Secretary, Revenue", "प्रमुख सचिव, राजस्व",
         "", "officer", "supervisor")
    post("PS(PRSECY)-REV", "REV", "Private Secretary to Principal Secretary",
         "प्रमुख सचिव के निजी सचिव", "PRSECY(REV)", "section_staff")
    post("SPLSECY(REV)", "REV", "Special Secretary, Revenue", "विशेष सचिव, राजस्व",
         "PRSECY(REV)", "officer")
    post("JS(REV)", "REV", "Joint Secretary, Revenue", "संयुक्त सचिव, राजस्व", "SPLSECY(REV)",
         "officer")

    def rev_cr(so):
        for i in (1, 2):
            post(f"DAKCLK{i}-REV", "REV-CR", f"Dak Clerk {i}, Central Registry",
                 f"डाक लिपिक {i}, केंद्रीय रजिस्ट्री", so, "dak_clerk")

    def rev_est(so):
        post("EOADM-REV", "REV-EST", "e-Office Administrator, Revenue",
             "ई-ऑफिस प्रशासक, राजस्व विभाग", so, "office_admin")

    secretariat_department(
        "REV",
        {"EST": ("Establishment", "अधिष्ठान", "JS(REV)"),
         "LR": ("Land Records", "भू-अभिलेख", "JS(REV)")},
        [("REV-EST", "Establishment", "अधिष्ठान", "EST", 2, 4, rev_est),
         ("REV-CR", "Central Registry", "केंद्रीय रजिस्ट्री", "EST", 1, 2, rev_cr),
         ("REV-LR", "Land Records", "भू-अभिलेख", "LR", 2, 4, None),
         ("REV-DM", "Disaster Management", "आपदा प्रबंधन", "LR", 2, 3, None)],
    )

    # Board of Revenue: Commissioner and Secretary -> Additional Commissioner
    # -> Assistant Commissioner (per section) -> Section Officer -> staff
    post("COMM(BOR)", "REV-BOR", "Commissioner and Secretary, Board of Revenue",
         "आयुक्त एवं सचिव, राजस्व परिषद", "", "officer", "supervisor")
    post("PA(COMM)-BOR", "REV-BOR", "Personal Assistant to Commissioner", "आयुक्त के वैयक्तिक सहायक",
         "COMM(BOR)", "section_staff")
    post("ADDLCOMM(ADM)-BOR", "REV-BOR", "Additional Commissioner (Administration)",
         "अपर आयुक्त (प्रशासन)", "COMM(BOR)", "officer")
    post("ADDLCOMM(JUD)-BOR", "REV-BOR", "Additional Commissioner (Judicial)",
         "अपर आयुक्त (न्यायिक)", "COMM(BOR)", "officer")
    bor = [("BOR-EST", "EST", "Establishment", "अधिष्ठान", "ADDLCOMM(ADM)-BOR", 2, 4),
           ("BOR-CR", "CR", "Central Registry", "केंद्रीय रजिस्ट्री", "ADDLCOMM(ADM)-BOR", 1, 2),
           ("BOR-JUD", "JUD", "Judicial", "न्यायिक", "ADDLCOMM(JUD)-BOR", 2, 5),
           ("BOR-LR", "LR", "Land Records", "भू-अभिलेख", "ADDLCOMM(JUD)-BOR", 2, 4)]
    for code, key, en, hi, above, n_sa, n_ja in bor:
        TAIL[code] = "BOR"
        ac = post(f"AC({key})-BOR", code, f"Assistant Commissioner ({en})",
                  f"सहायक आयुक्त ({hi})", above, "officer")
        so = post(f"SO({key})-BOR", code, f"Section Officer ({en})", f"अनुभाग अधिकारी ({hi})",
                  ac, "officer")
        staff(code, key, so, (en, hi), [(*SA, n_sa, STAFF), (*JA, n_ja, STAFF)])
        if key == "CR":
            for i in (1, 2):
                post(f"DAKCLK{i}-BOR", code, f"Dak Clerk {i}, Central Registry",
                     f"डाक लिपिक {i}, केंद्रीय रजिस्ट्री", so, "dak_clerk")
        if key == "EST":
            post("EOADM-BOR", code, "e-Office Administrator, Board of Revenue",
                 "ई-ऑफिस प्रशासक, राजस्व परिषद", so, "office_admin")

    # ---- two Collectorates
    collectorate("LKO", "Lucknow", "लखनऊ",
                 [("SADAR", "Sadar", "सदर"), ("MLB", "Malihabad", "मलिहाबाद")],
                 dak_clerks=3, big=True)
    collectorate("SPR", "Sitapur", "सीतापुर",
                 [("SADAR", "Sadar", "सदर"), ("BSW", "Biswan", "बिसवां")],
                 dak_clerks=2, big=False)


def collectorate(d, en, hi, tehsils, dak_clerks, big):
    dist = f"DIST-{d}"
    office(dist, "UP", "district", f"Collectorate {en}", f"कलेक्ट्रेट {hi}", "SUN")
    # key, en, hi, officer-in-charge (code prefix, en, hi), ADM above, senior, junior assistants
    sections = [
        ("EST", "Establishment", "अधिष्ठान", ("DC", "Deputy Collector (Officer-in-charge, Establishment)",
                                             "डिप्टी कलेक्टर (प्रभारी अधिकारी, अधिष्ठान)"), "E", 2, 3),
        ("REV", "Revenue", "राजस्व", ("DC", "Deputy Collector (Officer-in-charge, Revenue)",
                                       "डिप्टी कलेक्टर (प्रभारी अधिकारी, राजस्व)"), "F", 2, 4),
        ("DAK", "Central Registry", "केंद्रीय रजिस्ट्री", None, "E", 1, 1),
        ("LAND", "Land Acquisition", "भूमि अध्याप्ति", ("DC", "Deputy Collector (Land Acquisition)",
                                                       "डिप्टी कलेक्टर (भूमि अध्याप्ति)"), "F", 2, 3),
        ("ELEC", "Election", "निर्वाचन", ("DDEO", "Deputy District Election Officer",
                                          "उप जिला निर्वाचन अधिकारी"), "E", 1, 3),
        ("GRV", "Public Grievances", "जन शिकायत", ("DC", "Deputy Collector (Public Grievances)",
                                                  "डिप्टी कलेक्टर (जन शिकायत)"), "E", 1, 2),
    ]
    if big:  # Lucknow is the larger collectorate
        sections = [(k, e, h, oic, a, s + (1 if k in ("REV", "LAND") else 0), j + 2)
                    for k, e, h, oic, a, s, j in sections]
    for key, s_en, s_hi, *_ in sections:
        office(f"{d}-{key}", dist, "section", f"{s_en} Section, Collectorate {en}",
               f"{s_hi} पटल, कलेक्ट्रेट {hi}")
    for t, t_en, t_hi in tehsils:
        teh = office(f"{d}-TEH-{t}", dist, "office", f"Tehsil {t_en}, {en}", f"तहसील {t_hi}, {hi}")
        office(f"{d}-{t}-OFC", teh.code, "section", f"Tehsil Office, {t_en}", f"तहसील कार्यालय, {t_hi}")
        office(f"{d}-{t}-RK", teh.code, "section", f"Registrar Kanungo Office, {t_en}",
               f"रजिस्ट्रार कानूनगो कार्यालय, {t_hi}")

    dm = post(f"DM-{d}", dist, f"District Magistrate, {en}", f"जिलाधिकारी, {hi}", "",
              "officer", "supervisor")
    post(f"PA(DM)-{d}", dist, "Personal Assistant to District Magistrate", "जिलाधिकारी के वैयक्तिक सहायक",
         dm, "section_staff")
    adm = {"F": post(f"ADM(F)-{d}", dist, "Additional District Magistrate (Finance and Revenue)",
                     "अपर जिलाधिकारी (वित्त एवं राजस्व)", dm, "officer"),
           "E": post(f"ADM(E)-{d}", dist, "Additional District Magistrate (Executive)",
                     "अपर जिलाधिकारी (प्रशासन)", dm, "officer")}
    post(f"CRO-{d}", dist, "Chief Revenue Officer", "मुख्य राजस्व अधिकारी", adm["F"], "officer")
    post(f"EOADM-{d}", dist, f"e-Office Administrator, Collectorate {en}",
         f"ई-ऑफिस प्रशासक, कलेक्ट्रेट {hi}", adm["E"], "office_admin")
    for key, s_en, s_hi, oic, a, n_sa, n_ja in sections:
        code = f"{d}-{key}"
        TAIL[code] = d
        above = adm[a]
        if oic:
            prefix, o_en, o_hi = oic
            above = post(f"{prefix}({key})-{d}" if prefix == "DC" else f"{prefix}-{d}", code,
                         o_en, o_hi, above, "officer")
        ao = post(f"AO({key})-{d}", code, f"Administrative Officer ({s_en})",
                  f"प्रशासनिक अधिकारी ({s_hi})", above, "officer")
        staff(code, key, ao, (s_en, s_hi), [(*SA, n_sa, STAFF), (*JA, n_ja, STAFF)])
        if key == "DAK":
            for i in range(1, dak_clerks + 1):
                post(f"DAKCLK{i}-{d}", code, f"Dak Clerk {i}, Collectorate", f"डाक लिपिक {i}, कलेक्ट्रेट",
                     ao, "dak_clerk")
    for t, t_en, t_hi in tehsils:
        teh = f"{d}-TEH-{t}"
        sdm = post(f"SDM({t})-{d}", teh, f"Sub-Divisional Magistrate, {t_en}", f"उपजिलाधिकारी, {t_hi}",
                   adm["F"], "officer", "supervisor")
        th = post(f"TEH({t})-{d}", teh, f"Tehsildar, {t_en}", f"तहसीलदार, {t_hi}", sdm, "officer")
        ofc, rk = f"{d}-{t}-OFC", f"{d}-{t}-RK"
        nt = post(f"NT({t})-{d}", ofc, f"Naib Tehsildar, {t_en}", f"नायब तहसीलदार, {t_hi}", th, "officer")
        post(f"SA1({t})-{d}", ofc, f"Senior Assistant, Tehsil {t_en}", f"वरिष्ठ सहायक, तहसील {t_hi}",
             nt, "section_staff")
        for i in (1, 2):
            post(f"JA{i}({t})-{d}", ofc, f"Junior Assistant {i}, Tehsil {t_en}",
                 f"कनिष्ठ सहायक {i}, तहसील {t_hi}", nt, "section_staff")
        post(f"DAKCLK({t})-{d}", ofc, f"Dak Clerk, Tehsil {t_en}", f"डाक लिपिक, तहसील {t_hi}",
             nt, "dak_clerk", "section_staff")
        rko = post(f"RK({t})-{d}", rk, f"Registrar Kanungo, {t_en}", f"रजिस्ट्रार कानूनगो, {t_hi}",
                   th, "officer")
        for i in (1, 2):
            post(f"ARK{i}({t})-{d}", rk, f"Assistant Registrar Kanungo {i}, {t_en}",
                 f"सहायक रजिस्ट्रार कानूनगो {i}, {t_hi}", rko, "section_staff")


# --------------------------------------------------------------------------- holidays

STATE_HOLIDAYS = {
    2026: [("01-26", "Republic Day", "गणतंत्र दिवस"),
           ("03-04", "Holi", "होली"),
           ("03-21", "Id-ul-Fitr", "ईद-उल-फ़ित्र"),
           ("03-26", "Ram Navami", "राम नवमी"),
           ("04-14", "Dr. Bhimrao Ambedkar Jayanti", "डॉ. भीमराव आंबेडकर जयंती"),
           ("05-01", "Buddha Purnima", "बुद्ध पूर्णिमा"),
           ("05-27", "Id-ul-Zuha (Bakrid)", "ईद-उल-ज़ुहा (बकरीद)"),
           ("08-15", "Independence Day", "स्वतंत्रता दिवस"),
           ("09-04", "Janmashtami", "जन्माष्टमी"),
           ("10-02", "Gandhi Jayanti", "गांधी जयंती"),
           ("10-20", "Dussehra (Vijayadashami)", "दशहरा (विजयादशमी)"),
           ("11-08", "Deepawali", "दीपावली"),
           ("12-25", "Christmas Day", "क्रिसमस दिवस")],
    2027: [("01-26", "Republic Day", "गणतंत्र दिवस"),
           ("03-10", "Id-ul-Fitr", "ईद-उल-फ़ित्र"),
           ("03-22", "Holi", "होली"),
           ("04-14", "Dr. Bhimrao Ambedkar Jayanti", "डॉ. भीमराव आंबेडकर जयंती"),
           ("04-15", "Ram Navami", "राम नवमी"),
           ("05-17", "Id-ul-Zuha (Bakrid)", "ईद-उल-ज़ुहा (बकरीद)"),
           ("05-20", "Buddha Purnima", "बुद्ध पूर्णिमा"),
           ("08-15", "Independence Day", "स्वतंत्रता दिवस"),
           ("08-25", "Janmashtami", "जन्माष्टमी"),
           ("10-02", "Gandhi Jayanti", "गांधी जयंती"),
           ("10-09", "Dussehra (Vijayadashami)", "दशहरा (विजयादशमी)"),
           ("10-29", "Deepawali", "दीपावली"),
           ("12-25", "Christmas Day", "क्रिसमस दिवस")],
}
LOCAL_HOLIDAYS = {
    "DIST-LKO": [("2026-05-05", "First Bada Mangal", "प्रथम बड़ा मंगल"),
                 ("2026-11-11", "Bhai Dooj / Chitragupta Puja", "भैया दूज / चित्रगुप्त पूजा"),
                 ("2027-05-25", "First Bada Mangal", "प्रथम बड़ा मंगल"),
                 ("2027-10-31", "Bhai Dooj / Chitragupta Puja", "भैया दूज / चित्रगुप्त पूजा")],
    "DIST-SPR": [("2026-02-17", "Naimisharanya Parikrama Mela", "नैमिषारण्य परिक्रमा मेला"),
                 ("2026-10-19", "Maha Navami (Lalita Devi Mela)", "महानवमी (ललिता देवी मेला)"),
                 ("2027-03-08", "Naimisharanya Parikrama Mela", "नैमिषारण्य परिक्रमा मेला"),
                 ("2027-10-08", "Maha Navami (Lalita Devi Mela)", "महानवमी (ललिता देवी मेला)")],
}


def holidays():
    rows = [("UP", f"{y}-{md}", en, hi) for y, days in STATE_HOLIDAYS.items() for md, en, hi in days]
    for code, days in LOCAL_HOLIDAYS.items():
        rows += [(code, d, en, hi) for d, en, hi in days]
    return sorted(rows, key=lambda r: (r[0] != "UP", r[0], r[1]))


# --------------------------------------------------------------------------- people

MALE = [("Ramesh", "रमेश"), ("Suresh", "सुरेश"), ("Rajesh", "राजेश"), ("Anil", "अनिल"),
        ("Sunil", "सुनील"), ("Vinod", "विनोद"), ("Manoj", "मनोज"), ("Sanjay", "संजय"),
        ("Ajay", "अजय"), ("Vijay", "विजय"), ("Alok", "आलोक"), ("Ashok", "अशोक"),
        ("Rakesh", "राकेश"), ("Mukesh", "मुकेश"), ("Deepak", "दीपक"), ("Amit", "अमित"),
        ("Rahul", "राहुल"), ("Pankaj", "पंकज"), ("Saurabh", "सौरभ"), ("Gaurav", "गौरव"),
        ("Abhishek", "अभिषेक"), ("Vivek", "विवेक"), ("Anand", "आनंद"), ("Arvind", "अरविंद"),
        ("Dinesh", "दिनेश"), ("Mahesh", "महेश"), ("Naresh", "नरेश"), ("Pradeep", "प्रदीप"),
        ("Satish", "सतीश"), ("Shailendra", "शैलेन्द्र"), ("Yogesh", "योगेश"), ("Harish", "हरीश"),
        ("Ravi", "रवि"), ("Santosh", "संतोष"), ("Umesh", "उमेश"), ("Devendra", "देवेन्द्र"),
        ("Jitendra", "जितेन्द्र"), ("Neeraj", "नीरज"), ("Prashant", "प्रशांत"), ("Ankit", "अंकित"),
        ("Rajiv", "राजीव"), ("Shyam", "श्याम"), ("Krishna", "कृष्ण"), ("Om", "ओम")]
FEMALE = [("Sunita", "सुनीता"), ("Anita", "अनीता"), ("Kavita", "कविता"), ("Neha", "नेहा"),
          ("Pooja", "पूजा"), ("Priya", "प्रिया"), ("Ritu", "रितु"), ("Seema", "सीमा"),
          ("Rekha", "रेखा"), ("Manju", "मंजू"), ("Shalini", "शालिनी"), ("Archana", "अर्चना"),
          ("Vandana", "वंदना"), ("Shweta", "श्वेता"), ("Nidhi", "निधि"), ("Preeti", "प्रीति"),
          ("Anjali", "अंजलि"), ("Deepika", "दीपिका"), ("Swati", "स्वाति"), ("Rashmi", "रश्मि"),
          ("Sadhana", "साधना"), ("Meenakshi", "मीनाक्षी"), ("Garima", "गरिमा"), ("Usha", "उषा")]
MIDDLE = [("Kumar", "कुमार"), ("Prasad", "प्रसाद"), ("Chandra", "चन्द्र"), ("Nath", "नाथ"),
          ("Pratap", "प्रताप"), ("Narayan", "नारायण"), ("Prakash", "प्रकाश")]
SURNAMES = [("Verma", "वर्मा"), ("Sharma", "शर्मा"), ("Srivastava", "श्रीवास्तव"), ("Mishra", "मिश्रा"),
            ("Tripathi", "त्रिपाठी"), ("Shukla", "शुक्ला"), ("Pandey", "पाण्डेय"), ("Dubey", "दुबे"),
            ("Tiwari", "तिवारी"), ("Yadav", "यादव"), ("Singh", "सिंह"), ("Gupta", "गुप्ता"),
            ("Agarwal", "अग्रवाल"), ("Saxena", "सक्सेना"), ("Nigam", "निगम"), ("Rastogi", "रस्तोगी"),
            ("Maurya", "मौर्य"), ("Kushwaha", "कुशवाहा"), ("Chaurasia", "चौरसिया"), ("Rawat", "रावत"),
            ("Gautam", "गौतम"), ("Bajpai", "बाजपेयी"), ("Awasthi", "अवस्थी"), ("Dixit", "दीक्षित"),
            ("Chaudhary", "चौधरी"), ("Pal", "पाल"), ("Nishad", "निषाद"), ("Jaiswal", "जायसवाल"),
            ("Katiyar", "कटियार"), ("Sonkar", "सोनकर"), ("Bharti", "भारती"), ("Tandon", "टंडन")]
MUSLIM_MALE = [("Imran", "इमरान"), ("Arif", "आरिफ़"), ("Shahid", "शाहिद"), ("Faisal", "फ़ैसल"),
               ("Nadeem", "नदीम"), ("Tariq", "तारिक़"), ("Irfan", "इरफ़ान"), ("Javed", "जावेद")]
MUSLIM_FEMALE = [("Nazia", "नाज़िया"), ("Shabana", "शबाना"), ("Farha", "फ़रहा"), ("Rubina", "रुबीना")]
MUSLIM_SURNAMES = [("Khan", "ख़ान"), ("Ansari", "अंसारी"), ("Siddiqui", "सिद्दीक़ी"),
                   ("Qureshi", "क़ुरैशी"), ("Rizvi", "रिज़वी"), ("Naqvi", "नक़वी"), ("Hashmi", "हाशमी")]


@dataclass
class User:
    employee_id: str
    name_en: str
    name_hi: str
    email: str
    mobile: str
    first: str = field(repr=False, default="")
    last: str = field(repr=False, default="")


# The six demo sign-ins get fixed names so README.md can name them.
DEMO = {
    "SYSADM-GAD-IT": ("Ankit Srivastava", "अंकित श्रीवास्तव"),
    "EOADM-GAD": ("Shalini Mishra", "शालिनी मिश्रा"),
    "DAKCLK1-LKO": ("Ramesh Kumar Verma", "रमेश कुमार वर्मा"),
    "SO(EST)-GAD": ("Sunita Tripathi", "सुनीता त्रिपाठी"),
    "DM-LKO": ("Arvind Kumar Dixit", "अरविंद कुमार दीक्षित"),
    "SO(ACC)-GAD": ("Imran Siddiqui", "इमरान सिद्दीक़ी"),  # also holds SO(RTI)-GAD
}


def random_name(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.09:
        first = rng.choice(MUSLIM_FEMALE if rng.random() < 0.3 else MUSLIM_MALE)
        parts = [first, rng.choice(MUSLIM_SURNAMES)]
    else:
        female = rng.random() < 0.3
        first = rng.choice(FEMALE if female else MALE)
        parts = [first]
        if not female and rng.random() < 0.4:
            parts.append(rng.choice(MIDDLE))
        parts.append(rng.choice(SURNAMES))
    return " ".join(p[0] for p in parts), " ".join(p[1] for p in parts)


class People:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.users: list[User] = []
        self.emails: set[str] = set()
        self.mobiles: set[str] = set()
        for en, _ in DEMO.values():  # the demo users keep the plain address
            self.emails.add(self._base(en) + "@" + EMAIL_DOMAIN)

    @staticmethod
    def _base(name_en: str) -> str:
        parts = name_en.lower().split()
        return f"{parts[0]}.{parts[-1]}"

    def new(self, name: tuple[str, str] | None = None, reserved: bool = False) -> User:
        name_en, name_hi = name or random_name(self.rng)
        base = self._base(name_en)
        email, n = f"{base}@{EMAIL_DOMAIN}", 1
        if not reserved:
            while email in self.emails:
                n += 1
                email = f"{base}{n}@{EMAIL_DOMAIN}"
        self.emails.add(email)
        while True:
            mobile = str(self.rng.randint(6, 9)) + "".join(str(self.rng.randint(0, 9)) for _ in range(9))
            if mobile not in self.mobiles:
                break
        self.mobiles.add(mobile)
        u = User("", name_en, name_hi, email, mobile)
        self.users.append(u)
        return u


# --------------------------------------------------------------------------- postings

VACANT = ["SO(RTI)-GAD", "US(LR)-REV", "AC(LR)-BOR", "DC(LAND)-SPR", "NT(BSW)-SPR"]
# (user's regular post, post held as additional charge)
ADDITIONAL = [
    ("SO(ACC)-GAD", "SO(RTI)-GAD"),         # vacant post: look-after charge
    ("US(EST)-REV", "US(LR)-REV"),          # vacant
    ("AC(JUD)-BOR", "AC(LR)-BOR"),          # vacant
    ("CRO-SPR", "DC(LAND)-SPR"),            # vacant
    ("ADM(E)-LKO", "CRO-LKO"),              # regular holder on long training
    ("US(ADM)-GAD", "US(RTI)-GAD"),         # regular holder on leave
    ("SDM(SADAR)-SPR", "SDM(BSW)-SPR"),     # regular holder on leave
    ("AO(EST)-LKO", "AO(GRV)-LKO"),         # regular holder on leave
]
# posts whose previous holder was transferred: the previous holder is either a
# user who left the demo organisation (None) or the current holder of another post
PAST = [
    ("SO(EST)-GAD", None),
    ("DM-LKO", None),
    ("DM-SPR", None),
    ("US(EST)-GAD", "DS(EST)-GAD"),   # promoted: was US(EST), now DS(EST)
    ("AO(DAK)-LKO", "AO(REV)-LKO"),   # moved from the dak section to revenue
    ("SDM(MLB)-LKO", None),
    ("SO(CR)-REV", "SO(EST)-REV"),
    ("TEH(SADAR)-SPR", None),
]
EXTRA_UNPOSTED = 2  # users with no posting yet (joined, awaiting posting orders)


def iso(d: dt.date) -> str:
    return d.isoformat()


def build_people_and_postings(rng: random.Random):
    people = People(rng)
    holder: dict[str, User] = {}
    start: dict[str, dt.date] = {}
    for p in POSTS:
        if p.code in VACANT:
            continue
        u = people.new(DEMO.get(p.code), reserved=p.code in DEMO)
        holder[p.code] = u
        start[p.code] = dt.date(2019, 4, 1) + dt.timedelta(days=rng.randint(0, 2200))
    # previous holders: their posting ends the day before the current holder joined
    past_rows = []
    for code, now_at in PAST:
        begin = start[code]
        if now_at is not None:
            # the current holder of `now_at` moved there from `code`; make the dates agree
            mover = holder[now_at]
            end = begin - dt.timedelta(days=1)
            start[now_at] = max(start[now_at], begin)  # joined the new post after leaving
            if start[now_at] <= end:
                start[now_at] = end + dt.timedelta(days=1)
            prev_start = end - dt.timedelta(days=rng.randint(500, 1100))
            past_rows.append((mover, code, prev_start, end))
        else:
            leaver = people.new()
            end = begin - dt.timedelta(days=rng.randint(1, 20))
            prev_start = end - dt.timedelta(days=rng.randint(500, 1100))
            past_rows.append((leaver, code, prev_start, end))
    for _ in range(EXTRA_UNPOSTED):
        people.new()

    # employee ids in a shuffled order, so they do not mirror the hierarchy
    order = list(people.users)
    rng.shuffle(order)
    for i, u in enumerate(order):
        u.employee_id = f"UP{100101 + i * 7:06d}"

    rows = []
    for p in POSTS:
        if p.code in holder:
            rows.append((holder[p.code].employee_id, p.code, iso(start[p.code]), "", "regular"))
    for mine, other in ADDITIONAL:
        addl_start = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 280))
        rows.append((holder[mine].employee_id, other, iso(addl_start), "", "additional"))
    for u, code, s, e in past_rows:
        rows.append((u.employee_id, code, iso(s), iso(e), "regular"))
    index = {p.code: i for i, p in enumerate(POSTS)}
    rows.sort(key=lambda r: (index[r[1]], r[2]))
    people.users.sort(key=lambda u: u.employee_id)
    return people.users, rows


# --------------------------------------------------------------------------- output

def write(name, header, rows):
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def main():
    rng = random.Random(SEED)
    build_offices_and_posts()
    assert all(o.level in LEVELS for o in OFFICES)
    assert all(set(p.roles) <= set(ROLES) for p in POSTS)
    users, postings = build_people_and_postings(rng)
    write("offices.csv", ["code", "parent_code", "level", "name_en", "name_hi", "weekly_off"],
          [(o.code, o.parent_code, o.level, o.name_en, o.name_hi, o.weekly_off) for o in OFFICES])
    write("holidays.csv", ["office_code", "date", "name_en", "name_hi"], holidays())
    write("posts.csv", ["code", "office_code", "designation_en", "designation_hi", "supervisor_code", "roles"],
          [(p.code, p.office_code, p.designation_en, p.designation_hi, p.supervisor_code, ";".join(p.roles))
           for p in POSTS])
    write("users.csv", ["employee_id", "name_en", "name_hi", "email", "mobile"],
          [(u.employee_id, u.name_en, u.name_hi, u.email, u.mobile) for u in users])
    write("postings.csv", ["employee_id", "post_code", "start_date", "end_date", "charge"], postings)
    print(f"{len(OFFICES)} offices, {len(POSTS)} posts, {len(users)} users, {len(postings)} postings "
          f"written to {HERE}")
    email = {u.employee_id: u.email for u in users}
    roles = {p.code: p.roles for p in POSTS}
    for code in DEMO:
        emp = next(r[0] for r in postings if r[1] == code and r[3] == "")
        held = [f"{r[1]} ({r[4]}: {';'.join(roles[r[1]])})" for r in postings if r[0] == emp and r[3] == ""]
        print(f"  demo sign-in {email[emp]:<30} {', '.join(held)}")

if __name__ == "__main__":
    main()
