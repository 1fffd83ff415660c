"""Static tables behind the synthetic universe: well-known symbols, currencies, name parts.

The well-known symbols carry their real names, ISINs, listing dates and splits (so AAPL's
4/1 split is on 2020-08-31, as in real life); their prices are still synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Known:
    """A real symbol the emulator always lists first on its exchange."""

    code: str
    name: str
    venue: str
    asset_type: str
    isin: str | None
    ipo: str
    price: float  # synthetic price on the first day of history
    drift: float = 0.06  # per year
    dividends_from: str | None = None
    annual_yield: float = 0.0
    splits: tuple[tuple[str, str, str], ...] = ()  # (ex-date, new, old), as really happened


# fmt: off
KNOWN: dict[str, tuple[Known, ...]] = {
    "US": (
        Known("AAPL", "Apple Inc", "NASDAQ", "Common Stock", "US0378331005", "1980-12-12", 100.0,
              drift=0.19, dividends_from="2012-08-09", annual_yield=0.012,
              splits=(("2000-06-21", "2", "1"), ("2005-02-28", "2", "1"),
                      ("2014-06-09", "7", "1"), ("2020-08-31", "4", "1"))),
        Known("MSFT", "Microsoft Corporation", "NASDAQ", "Common Stock", "US5949181045",
              "1986-03-13", 55.0, drift=0.07, dividends_from="2003-02-19", annual_yield=0.02,
              splits=(("2003-02-18", "2", "1"),)),
        Known("TSLA", "Tesla Inc", "NASDAQ", "Common Stock", "US88160R1014", "2010-06-29", 19.0,
              drift=0.35, splits=(("2020-08-31", "5", "1"), ("2022-08-25", "3", "1"))),
        Known("VTI", "Vanguard Total Stock Market Index Fund ETF Shares", "NYSE ARCA", "ETF",
              "US9229087690", "2001-05-31", 52.0, drift=0.07, dividends_from="2001-12-27",
              annual_yield=0.018, splits=(("2008-06-18", "2", "1"),)),
        Known("AMZN", "Amazon.com Inc", "NASDAQ", "Common Stock", "US0231351067", "1997-05-15",
              60.0, drift=0.14, splits=(("2022-06-06", "20", "1"),)),
        Known("BRK-B", "Berkshire Hathaway Inc", "NYSE", "Common Stock", "US0846707026",
              "1996-05-09", 1800.0, drift=0.06, splits=(("2010-01-21", "50", "1"),)),
        Known("SWPPX", "Schwab S&P 500 Index Fund", "NMFQS", "FUND", None, "1997-05-19", 18.0,
              dividends_from="1998-12-15", annual_yield=0.015),
    ),
    "LSE": (
        Known("VOD", "Vodafone Group PLC", "LSE", "Common Stock", "GB00BH4HKS39", "1988-10-26",
              180.0, drift=0.0, dividends_from="2001-06-06", annual_yield=0.05,
              splits=(("2014-02-24", "6", "11"),)),
        Known("HSBA", "HSBC Holdings PLC", "LSE", "Common Stock", "GB0005405286", "1992-07-10",
              750.0, drift=0.01, dividends_from="2000-04-03", annual_yield=0.05),
        Known("BP", "BP PLC", "LSE", "Common Stock", "GB0007980591", "1954-01-04", 520.0,
              drift=0.01, dividends_from="2000-02-21", annual_yield=0.045),
        Known("AZN", "AstraZeneca PLC", "LSE", "Common Stock", "GB0009895292", "1993-05-17",
              3100.0, dividends_from="2000-08-07", annual_yield=0.025),
    ),
    "XETRA": (
        Known("SAP", "SAP SE", "XETRA", "Common Stock", "DE0007164600", "1988-11-04", 45.0,
              drift=0.08, dividends_from="2000-05-08", annual_yield=0.012,
              splits=(("2007-12-21", "4", "1"),)),
        Known("SIE", "Siemens AG", "XETRA", "Common Stock", "DE0007236101", "1899-01-02", 80.0,
              drift=0.05, dividends_from="2000-02-21", annual_yield=0.03),
    ),
    "TO": (
        Known("RY", "Royal Bank of Canada", "TO", "Common Stock", "CA7800871021", "1864-01-04",
              30.0, drift=0.08, dividends_from="2000-01-20", annual_yield=0.035,
              splits=(("2006-04-07", "2", "1"),)),
        Known("SHOP", "Shopify Inc", "TO", "Common Stock", "CA82509L1076", "2015-05-21", 30.0,
              drift=0.4, splits=(("2022-06-29", "10", "1"),)),
    ),
    "CC": (
        Known("BTC-USD", "Bitcoin", "CC", "Currency", None, "2010-07-17", 0.08, drift=0.6),
        Known("ETH-USD", "Ethereum", "CC", "Currency", None, "2015-08-07", 2.8, drift=0.5),
        Known("LTC-USD", "Litecoin", "CC", "Currency", None, "2013-04-28", 4.3, drift=0.2),
        Known("XRP-USD", "XRP", "CC", "Currency", None, "2014-08-04", 0.005, drift=0.3),
    ),
    "COMM": (
        Known("CL", "Crude Oil WTI Futures", "COMM", "Commodity", None, "1983-03-30", 25.0,
              drift=0.03),
        Known("BZ", "Brent Crude Oil Futures", "COMM", "Commodity", None, "1988-06-23", 26.0,
              drift=0.03),
        Known("NG", "Natural Gas Futures", "COMM", "Commodity", None, "1990-04-03", 2.3,
              drift=0.01),
        Known("GC", "Gold Futures", "COMM", "Commodity", None, "1974-12-31", 280.0, drift=0.07),
    ),
}

#: Value of one unit in US dollars, to give currency pairs plausible levels.
CURRENCIES = {
    "EUR": 1.1, "USD": 1.0, "GBP": 1.3, "JPY": 0.0075, "CHF": 1.05, "AUD": 0.7, "CAD": 0.75,
    "NZD": 0.65, "SEK": 0.095, "NOK": 0.1, "DKK": 0.15, "PLN": 0.25, "CZK": 0.045,
    "HUF": 0.003, "SGD": 0.74, "HKD": 0.128, "ZAR": 0.06, "MXN": 0.055, "CNY": 0.14,
}
NAME_WORDS = (
    ("Blue", "North", "Silver", "Granite", "Harbor", "Summit", "Cedar", "Atlas", "Nova",
     "Pioneer", "Crescent", "Evergreen", "Liberty", "Orion", "Redwood", "Sterling"),
    ("Systems", "Energy", "Holdings", "Therapeutics", "Logistics", "Networks", "Foods",
     "Materials", "Financial", "Robotics", "Media", "Minerals", "Semiconductors"),
)
COMPANY_SUFFIX = {"US": "Inc", "LSE": "PLC", "XETRA": "AG", "TO": "Corp"}
TYPES_US = (("Common Stock", 0.78), ("ETF", 0.13), ("FUND", 0.04), ("Preferred Stock", 0.03),
            ("Class B", 0.02))
TYPES_OTHER = (("Common Stock", 0.85), ("ETF", 0.15))
VENUES_US = {
    "Common Stock": (("NASDAQ", 0.5), ("NYSE", 0.4), ("NYSE MKT", 0.05), ("BATS", 0.05)),
    "ETF": (("NYSE ARCA", 0.8), ("NASDAQ", 0.1), ("BATS", 0.1)),
    "FUND": (("NMFQS", 1.0),),
    "Preferred Stock": (("NYSE", 1.0),),
}
# fmt: on


def currency_pairs() -> list[str]:
    """Currency pairs, majors first, each once."""
    majors = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP")
    pairs = list(majors)
    for base in ("EUR", "GBP", "USD", "JPY", "CHF", "AUD", "CAD", "NZD"):
        pairs += [base + quote for quote in CURRENCIES if quote != base]
    return list(dict.fromkeys(pairs))
