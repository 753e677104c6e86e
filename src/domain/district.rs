//! Districts: the parts of the city the bureau names in its configuration
//! (`[[bot.districts]]`), which notices concern and subscribers follow.
//!
//! A district has a key (an ASCII slug, what the database stores), a name in Chinese and
//! in English, aliases, optionally a boundary (longitude/latitude polygons, WGS 84, as
//! GeoJSON orders them) and optionally CAP geocodes. Which district holds a point, and
//! whether a CAP polygon touches one, is answered by the `geo` crate (`Contains`,
//! `Intersects`), not by geometry of our own.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use geo::{Contains, Intersects, MultiPolygon, Point, Polygon};

use super::Language;

/// A district's key: 1 to 32 ASCII lower-case letters, digits, `-` and `_`
/// (`chengdong`). Stored with notices and subscribers; names may change, keys do not.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DistrictKey(String);

impl DistrictKey {
    /// The key, or `None` if `s` is not 1 to 32 of `a-z`, `0-9`, `-`, `_`.
    pub fn parse(s: &str) -> Option<DistrictKey> {
        let ok = (1..=32).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        ok.then(|| DistrictKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DistrictKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The districts a notice concerns or a subscriber follows: empty means the whole city
/// (for a notice) or every district (for a subscriber).
pub type DistrictSet = BTreeSet<DistrictKey>;

/// Stored form of a [`DistrictSet`]: keys joined by `,` (empty: the whole city).
pub fn districts_to_column(set: &DistrictSet) -> String {
    set.iter().map(DistrictKey::as_str).collect::<Vec<_>>().join(",")
}

/// Reads [`districts_to_column`]'s form back; keys that are no longer valid are dropped.
pub fn districts_from_column(text: &str) -> DistrictSet {
    text.split(',').filter_map(|k| DistrictKey::parse(k.trim())).collect()
}

/// Whether a notice concerning `notice` reaches a subscriber following `chosen`: a notice
/// for the whole city reaches everyone, and a subscriber who chose no district follows
/// them all; otherwise the two must share a district.
pub fn district_reaches(notice: &DistrictSet, chosen: &DistrictSet) -> bool {
    notice.is_empty() || chosen.is_empty() || !notice.is_disjoint(chosen)
}

/// One configured district.
#[derive(Clone, Debug, PartialEq)]
pub struct District {
    pub key: DistrictKey,
    pub name_zh: String,
    pub name_en: String,
    /// Other names it is known by (`城东`, `East`), matched like the names.
    pub aliases: Vec<String>,
    /// Its boundary in longitude/latitude (x = longitude, y = latitude); `None` if the
    /// bureau gave none (shared locations and CAP polygons then never pick it).
    pub boundary: Option<MultiPolygon<f64>>,
    /// CAP `<geocode>`s that mean this district, as (valueName, value).
    pub geocodes: Vec<(String, String)>,
}

impl District {
    /// Its name in `language`.
    pub fn name(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.name_zh,
            Language::En => &self.name_en,
        }
    }

    /// Whether `text` (trimmed; Latin letters in any case) is its key, a name or an alias.
    fn is_called(&self, text: &str) -> bool {
        let text = text.trim();
        let same = |name: &str| name.trim().eq_ignore_ascii_case(text);
        same(self.key.as_str())
            || same(&self.name_zh)
            || same(&self.name_en)
            || self.aliases.iter().any(|a| same(a))
    }

    /// Whether `text` mentions its Chinese or English name or an alias (CAP `areaDesc`).
    fn is_mentioned_in(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        std::iter::once(&self.name_zh)
            .chain(std::iter::once(&self.name_en))
            .chain(self.aliases.iter())
            .map(|n| n.trim().to_lowercase())
            .any(|n| !n.is_empty() && lower.contains(&n))
    }
}

/// Why a list of district names was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a district: {0:?}")]
pub struct UnknownDistrict(pub String);

/// The words that mean "every district" / "the whole city" in a typed list.
pub const WHOLE_CITY_WORDS: &[&str] = &["全部", "全市", "all", "whole city", "city"];

/// The bureau's districts, in the configured order. Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Districts(Arc<Vec<District>>);

impl Districts {
    /// The districts as configured; the configuration has checked that keys and names
    /// are unique.
    pub fn new(list: Vec<District>) -> Districts {
        Districts(Arc::new(list))
    }

    pub fn all(&self) -> &[District] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &DistrictKey) -> Option<&District> {
        self.0.iter().find(|d| &d.key == key)
    }

    /// The district whose key, Chinese or English name or alias `text` is.
    pub fn find(&self, text: &str) -> Option<&District> {
        self.0.iter().find(|d| d.is_called(text))
    }

    /// A typed list such as `城东区,城西区`, `East, 城西` (commas, `、`, `，`, `;` or
    /// spaces between Chinese names): every name must be a district's. One of
    /// [`WHOLE_CITY_WORDS`] alone gives the empty set (the whole city).
    pub fn parse_list(&self, text: &str) -> Result<DistrictSet, UnknownDistrict> {
        let text = text.trim();
        if WHOLE_CITY_WORDS.iter().any(|w| w.eq_ignore_ascii_case(text)) {
            return Ok(DistrictSet::new());
        }
        let mut set = DistrictSet::new();
        for part in text.split([',', '，', '、', ';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
            match self.find(part) {
                Some(d) => {
                    set.insert(d.key.clone());
                }
                // `城东区 城西区`: names separated by spaces (an English name may hold one).
                None => {
                    for word in part.split_whitespace() {
                        let d = self.find(word).ok_or_else(|| UnknownDistrict(part.to_owned()))?;
                        set.insert(d.key.clone());
                    }
                }
            }
        }
        if set.is_empty() {
            return Err(UnknownDistrict(text.to_owned()));
        }
        Ok(set)
    }

    /// The names of `set` in `language`, in the configured order, joined by `sep`; keys
    /// no longer configured are shown as they are.
    pub fn names(&self, set: &DistrictSet, language: Language, sep: &str) -> String {
        let mut names: Vec<String> =
            self.0.iter().filter(|d| set.contains(&d.key)).map(|d| d.name(language).to_owned()).collect();
        names.extend(set.iter().filter(|k| self.get(k).is_none()).map(|k| k.to_string()));
        names.join(sep)
    }

    /// The district whose boundary contains the point (`latitude`, `longitude` in
    /// degrees, WGS 84), by `geo::Contains`; the first configured if boundaries overlap.
    pub fn containing(&self, latitude: f64, longitude: f64) -> Option<&District> {
        let point = Point::new(longitude, latitude);
        self.0.iter().find(|d| d.boundary.as_ref().is_some_and(|b| b.contains(&point)))
    }

    /// The districts a CAP `<info>`'s areas concern: those named in an `areaDesc`, those
    /// whose geocodes one lists (valueName and value, valueName in any case), those whose
    /// boundary a CAP polygon intersects, and those holding a circle's centre. The empty
    /// set (the whole city) when nothing matches or every district does.
    pub fn match_cap(&self, areas: &[CapArea<'_>]) -> DistrictSet {
        let mut set = DistrictSet::new();
        for d in self.0.iter() {
            let hit = areas.iter().any(|a| {
                d.is_mentioned_in(a.area_desc)
                    || a.geocodes.iter().any(|(name, value)| {
                        d.geocodes
                            .iter()
                            .any(|(n, v)| n.eq_ignore_ascii_case(name.trim()) && v == value.trim())
                    })
                    || d.boundary.as_ref().is_some_and(|b| {
                        a.polygons.iter().filter_map(|p| cap_polygon(p)).any(|p| p.intersects(b))
                            || a.circles.iter().filter_map(|c| cap_circle_centre(c)).any(|c| b.contains(&c))
                    })
            });
            if hit {
                set.insert(d.key.clone());
            }
        }
        if set.len() == self.0.len() { DistrictSet::new() } else { set }
    }
}

/// One CAP `<area>` as [`Districts::match_cap`] reads it.
#[derive(Clone, Debug, Default)]
pub struct CapArea<'a> {
    pub area_desc: &'a str,
    /// CAP polygons: "lat,lon lat,lon …" (CAP 1.2 section 3.2.4).
    pub polygons: Vec<&'a str>,
    /// CAP circles: "lat,lon radius" (radius in km).
    pub circles: Vec<&'a str>,
    pub geocodes: Vec<(&'a str, &'a str)>,
}

/// A CAP polygon ("lat,lon" pairs separated by spaces, at least four) as a `geo` polygon
/// in longitude/latitude; `None` if malformed.
pub fn cap_polygon(text: &str) -> Option<Polygon<f64>> {
    let points: Option<Vec<(f64, f64)>> = text.split_whitespace().map(cap_point).collect();
    let points = points?;
    (points.len() >= 4).then(|| Polygon::new(points.into(), vec![]))
}

/// A CAP circle's centre ("lat,lon radius"), as a point in longitude/latitude.
pub fn cap_circle_centre(text: &str) -> Option<Point<f64>> {
    let (x, y) = cap_point(text.split_whitespace().next()?)?;
    Some(Point::new(x, y))
}

/// "lat,lon" as (longitude, latitude), both in range.
fn cap_point(pair: &str) -> Option<(f64, f64)> {
    let (lat, lon) = pair.split_once(',')?;
    let (lat, lon): (f64, f64) = (lat.trim().parse().ok()?, lon.trim().parse().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lon, lat))
}

/// A boundary read from GeoJSON text: a Polygon or MultiPolygon geometry, a Feature
/// holding one, or a FeatureCollection of them (all polygons together), by the `geojson`
/// crate. The error says what was wrong.
pub fn boundary_from_geojson(text: &str) -> Result<MultiPolygon<f64>, String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e| format!("is not GeoJSON ({e})"))?;
    let collection: geo::GeometryCollection<f64> =
        geo::GeometryCollection::try_from(&gj).map_err(|e| format!("holds no usable geometry ({e})"))?;
    let mut polygons = Vec::new();
    for g in collection {
        match g {
            geo::Geometry::Polygon(p) => polygons.push(p),
            geo::Geometry::MultiPolygon(m) => polygons.extend(m),
            _ => return Err("holds a geometry that is not a Polygon or MultiPolygon".to_owned()),
        }
    }
    if polygons.is_empty() {
        return Err("holds no polygon".to_owned());
    }
    Ok(MultiPolygon::new(polygons))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(key: &str, zh: &str, en: &str, x0: f64, y0: f64) -> District {
        let ring = vec![(x0, y0), (x0 + 1.0, y0), (x0 + 1.0, y0 + 1.0), (x0, y0 + 1.0), (x0, y0)];
        District {
            key: DistrictKey::parse(key).unwrap(),
            name_zh: zh.into(),
            name_en: en.into(),
            aliases: vec![zh.trim_end_matches('区').to_owned()],
            boundary: Some(MultiPolygon::new(vec![Polygon::new(ring.into(), vec![])])),
            geocodes: vec![("GB".into(), format!("{key}-code"))],
        }
    }

    fn city() -> Districts {
        Districts::new(vec![
            square("east", "城东区", "Chengdong District", 120.0, 30.0),
            square("west", "城西区", "Chengxi District", 118.0, 30.0),
        ])
    }

    #[test]
    fn names_aliases_and_the_whole_city_are_understood() {
        let c = city();
        let east = DistrictKey::parse("east").unwrap();
        let west = DistrictKey::parse("west").unwrap();
        assert_eq!(c.parse_list("城东区").unwrap(), DistrictSet::from([east.clone()]));
        assert_eq!(
            c.parse_list("城东, chengxi district").unwrap(),
            DistrictSet::from([east.clone(), west.clone()])
        );
        assert_eq!(c.parse_list("城东区 城西区").unwrap().len(), 2);
        assert_eq!(c.parse_list("城东区、城西").unwrap().len(), 2);
        assert!(c.parse_list("全部").unwrap().is_empty());
        assert!(c.parse_list("ALL").unwrap().is_empty());
        assert_eq!(c.parse_list("城北区").unwrap_err(), UnknownDistrict("城北区".into()));
        assert_eq!(
            c.names(&DistrictSet::from([west, east]), Language::En, ", "),
            "Chengdong District, Chengxi District"
        );
    }

    #[test]
    fn a_point_is_placed_by_the_polygon_that_holds_it() {
        let c = city();
        assert_eq!(c.containing(30.5, 120.5).map(|d| d.key.as_str()), Some("east"));
        assert_eq!(c.containing(30.5, 118.5).map(|d| d.key.as_str()), Some("west"));
        assert!(c.containing(30.5, 119.5).is_none(), "between the two");
        assert!(c.containing(10.0, 120.5).is_none());
    }

    #[test]
    fn cap_areas_match_by_description_geocode_polygon_and_circle() {
        let c = city();
        let keys = |set: DistrictSet| set.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let by_desc = CapArea { area_desc: "城东区人民路", ..CapArea::default() };
        assert_eq!(keys(c.match_cap(&[by_desc])), ["east"]);
        let by_code = CapArea { area_desc: "x", geocodes: vec![("gb", "west-code")], ..CapArea::default() };
        assert_eq!(keys(c.match_cap(&[by_code])), ["west"]);
        // A polygon straddling the east district's western edge.
        let poly = "30.2,119.8 30.2,120.2 30.4,120.2 30.4,119.8 30.2,119.8";
        let by_poly = CapArea { area_desc: "", polygons: vec![poly], ..CapArea::default() };
        assert_eq!(keys(c.match_cap(&[by_poly])), ["east"]);
        let by_circle = CapArea { area_desc: "", circles: vec!["30.5,118.5 2"], ..CapArea::default() };
        assert_eq!(keys(c.match_cap(&[by_circle])), ["west"]);
        let nothing = CapArea { area_desc: "全省", ..CapArea::default() };
        assert!(c.match_cap(&[nothing]).is_empty(), "nothing matched: the whole city");
        let both = CapArea { area_desc: "城东区和城西区", ..CapArea::default() };
        assert!(c.match_cap(&[both]).is_empty(), "everything matched: the whole city");
    }

    #[test]
    fn geojson_boundaries_are_read_and_bad_ones_refused() {
        let text = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}"#;
        let b = boundary_from_geojson(text).unwrap();
        assert!(b.contains(&Point::new(0.5, 0.5)));
        assert!(boundary_from_geojson(r#"{"type":"Point","coordinates":[0,0]}"#).is_err());
        assert!(boundary_from_geojson("{").is_err());
    }

    #[test]
    fn a_whole_city_notice_reaches_everyone_and_a_district_notice_its_followers() {
        let e = DistrictSet::from([DistrictKey::parse("east").unwrap()]);
        let w = DistrictSet::from([DistrictKey::parse("west").unwrap()]);
        let none = DistrictSet::new();
        assert!(district_reaches(&none, &e));
        assert!(district_reaches(&e, &none));
        assert!(district_reaches(&e, &e));
        assert!(!district_reaches(&e, &w));
        assert_eq!(districts_from_column(&districts_to_column(&e)), e);
        assert!(districts_from_column("").is_empty());
    }
}
