//! ISO 3166-1 alpha-2 country codes.

/// A country, as its ISO 3166-1 alpha-2 code (`US`, `FR`, …): one of the 249 codes
/// officially assigned, not any two letters. Accepted in any case, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country(String);

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted (checked against Debian's
/// `iso-codes`, `iso_3166-1.json`). Reserved and user-assigned codes (`XK`, `EU`, `UK`,
/// `ZZ`, …) are not countries of the standard and are refused.
pub const CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

impl Country {
    pub fn parse(raw: &str) -> Result<Country, String> {
        let code = raw.trim().to_ascii_uppercase();
        if CODES.binary_search(&code.as_str()).is_ok() {
            Ok(Country(code))
        } else {
            Err(format!(
                "\"{}\" is not a valid choice: use an ISO 3166-1 alpha-2 country code, e.g. US.",
                raw.trim()
            ))
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_has_no_duplicates() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn assigned_codes_are_accepted_in_any_case_others_refused() {
        assert_eq!(Country::parse("US").unwrap().into_string(), "US");
        assert_eq!(Country::parse(" fr ").unwrap().into_string(), "FR");
        assert!(Country::parse("AX").is_ok());
        for bad in ["", "U", "USA", "ZZ", "XK", "UK", "EU", "AA", "1A", "É"] {
            assert!(Country::parse(bad).is_err(), "{bad:?}");
        }
    }
}
