"""ISO 4217 currency codes a tenant's ``currency`` may name (contract 1, 1.1).

Python has no list of its own. This is List One of ISO 4217 (the active
codes, as amended up to 2025: XCG for the Caribbean guilder, ZWG for the
Zimbabwe Gold, SLE, VED and the fund codes such as CHE, CLF or USN included),
less the codes that are not money a firm keeps books in: precious metals
(XAU, XAG, XPT, XPD), the IMF's and bond markets' units (XDR, XSU, XUA, XBA,
XBB, XBC, XBD) and the testing and no-currency codes (XTS, XXX). Withdrawn
codes (HRK, SLL, ZWL, CUC, …) are refused. When ISO adds a code, add it here.
"""

ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)
