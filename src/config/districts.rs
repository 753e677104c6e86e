//! `bot.districts`: the city's districts, as `[[bot.districts]]` tables (the same list
//! written inline in `PINGAN_BOT_DISTRICTS`). Every refusal names the district and the
//! field.

use geo::{LineString, MultiPolygon, Polygon};
use toml::Value;

use super::ConfigError;
use super::layers::Layers;
use crate::domain::district::boundary_from_geojson;
use crate::domain::{District, DistrictKey, Districts};

const EXPECTED: &str = "a list of districts, each a table with key, name_zh, name_en and optionally \
                        aliases, boundary (a GeoJSON file) or polygon, and geocodes";
const FIELDS: &[&str] = &["key", "name_zh", "name_en", "aliases", "boundary", "polygon", "geocodes"];

/// Reads and checks `bot.districts`.
pub(super) fn districts(l: &Layers) -> Result<Districts, ConfigError> {
    let value = &l.entry("bot.districts").value;
    let parsed;
    let items = match value {
        Value::Array(items) => items,
        Value::String(text) => {
            parsed = format!("districts = {text}")
                .parse::<toml::Table>()
                .map_err(|e| l.invalid("bot.districts", &format!("{EXPECTED} ({})", e.message().trim())))?;
            match parsed.get("districts") {
                Some(Value::Array(items)) => items,
                _ => return Err(l.invalid("bot.districts", EXPECTED)),
            }
        }
        _ => return Err(l.invalid("bot.districts", EXPECTED)),
    };
    let mut list: Vec<District> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let d = district(item).map_err(|problem| {
            l.invalid("bot.districts", &format!("{EXPECTED}; district {} {problem}", i + 1))
        })?;
        let names = |d: &District| {
            let mut n = vec![d.key.to_string(), d.name_zh.to_lowercase(), d.name_en.to_lowercase()];
            n.extend(d.aliases.iter().map(|a| a.to_lowercase()));
            n
        };
        for other in &list {
            if let Some(same) = names(&d).into_iter().find(|n| names(other).contains(n)) {
                return Err(l.invalid(
                    "bot.districts",
                    &format!(
                        "districts with different keys, names and aliases; {same:?} is both {} and {}",
                        other.key, d.key
                    ),
                ));
            }
        }
        list.push(d);
    }
    Ok(Districts::new(list))
}

/// One `[[bot.districts]]` table, or what is wrong with it.
fn district(item: &Value) -> Result<District, String> {
    let table = item.as_table().ok_or("is not a table")?;
    for key in table.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return Err(format!("has an unknown field `{key}` (known: {})", FIELDS.join(", ")));
        }
    }
    let raw_key = table.get("key").and_then(Value::as_str).unwrap_or_default().trim();
    let key = DistrictKey::parse(raw_key)
        .ok_or("needs a key of 1 to 32 lower-case ASCII letters, digits, - and _ (such as \"chengdong\")")?;
    let name = |field: &str| {
        table
            .get(field)
            .and_then(Value::as_str)
            .map(|n| n.trim().to_owned())
            .filter(|n| (1..=50).contains(&n.chars().count()) && !n.contains(','))
            .ok_or_else(|| format!("({key}) needs a {field} of 1 to 50 characters without commas"))
    };
    let name_zh = name("name_zh")?;
    let name_en = name("name_en")?;
    if !name_en.is_ascii() {
        return Err(format!("({key}) has a name_en that is not in ASCII letters"));
    }
    let aliases = match table.get("aliases") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|a| {
                        a.as_str().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty() && !a.contains(','))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| format!("({key}) has aliases that are not a list of names without commas"))?,
    };
    let boundary = match (table.get("boundary"), table.get("polygon")) {
        (Some(_), Some(_)) => return Err(format!("({key}) has both boundary and polygon; give one")),
        (Some(path), None) => {
            let path =
                path.as_str().ok_or_else(|| format!("({key}) has a boundary that is not a file path"))?;
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("({key}) has a boundary file {path:?} that cannot be read: {e}"))?;
            Some(
                boundary_from_geojson(&text)
                    .map_err(|e| format!("({key}) has a boundary file {path:?} that {e}"))?,
            )
        }
        (None, Some(points)) => Some(inline_polygon(points).ok_or_else(|| {
            format!(
                "({key}) has a polygon that is not a list of at least 4 [longitude, latitude] points, \
                 the last the same as the first"
            )
        })?),
        (None, None) => None,
    };
    let geocodes = match table.get("geocodes") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|g| {
                        let t = g.as_table()?;
                        let name = t.get("valueName")?.as_str()?.trim();
                        let value = t.get("value")?.as_str()?.trim();
                        (!name.is_empty() && !value.is_empty() && t.len() == 2)
                            .then(|| (name.to_owned(), value.to_owned()))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| {
                format!(
                    "({key}) has geocodes that are not a list of {{valueName = \"…\", value = \"…\"}} tables"
                )
            })?,
    };
    Ok(District { key, name_zh, name_en, aliases, boundary, geocodes })
}

/// `[[lon, lat], …]`, closed, at least four points, in range.
fn inline_polygon(v: &Value) -> Option<MultiPolygon<f64>> {
    let points: Vec<(f64, f64)> = v
        .as_array()?
        .iter()
        .map(|p| {
            let pair = p.as_array().filter(|a| a.len() == 2)?;
            let num = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            let (lon, lat) = (num(&pair[0])?, num(&pair[1])?);
            ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
        })
        .collect::<Option<_>>()?;
    (points.len() >= 4 && points.first() == points.last())
        .then(|| MultiPolygon::new(vec![Polygon::new(LineString::from(points), vec![])]))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::Loaded;

    fn load(file: &str) -> Result<Loaded, String> {
        Loaded::from_sources(Some((PathBuf::from("local.toml"), file.to_owned())), &|_| None)
            .map_err(|e| e.to_string())
    }

    const EAST: &str = "[[bot.districts]]\nkey = \"east\"\nname_zh = \"城东区\"\nname_en = \"Chengdong District\"\n\
                        aliases = [\"城东\"]\npolygon = [[120, 30], [121, 30], [121, 31], [120, 31], [120, 30]]\n\
                        geocodes = [{valueName = \"GB2260\", value = \"330102\"}]\n";

    #[test]
    fn districts_are_read_from_tables() {
        let s = load(EAST).unwrap().settings;
        let d = &s.bot.districts.all()[0];
        assert_eq!((d.key.as_str(), d.name_zh.as_str(), d.aliases.len()), ("east", "城东区", 1));
        assert_eq!(d.geocodes, vec![("GB2260".to_owned(), "330102".to_owned())]);
        assert_eq!(s.bot.districts.containing(30.5, 120.5).map(|d| d.key.as_str()), Some("east"));
        assert!(load("").unwrap().settings.bot.districts.is_empty(), "none by default");
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            (EAST.replace("key = \"east\"", "key = \"East Side\""), "needs a key"),
            (EAST.replace("name_zh = \"城东区\"\n", ""), "(east) needs a name_zh"),
            (EAST.replace("Chengdong District", "城东"), "(east) has a name_en"),
            (EAST.replace("aliases = [\"城东\"]", "aliases = \"城东\""), "(east) has aliases"),
            (EAST.replace("[120, 30]]", "[120, 31]]"), "(east) has a polygon"),
            (EAST.replace("value = \"330102\"", "code = \"330102\""), "(east) has geocodes"),
            (format!("{EAST}boundary = \"/nonexistent/east.geojson\"\n"), "has both boundary and polygon"),
            (EAST.replace("polygon =", "boundary = \"/nonexistent/east.geojson\"\n#"), "cannot be read"),
            (format!("{EAST}colour = \"red\"\n"), "unknown field `colour`"),
            (
                format!("{EAST}{}", EAST.replace("key = \"east\"", "key = \"east2\"")),
                "\"城东区\" is both east and east2",
            ),
        ];
        for (file, expected) in cases {
            let err = load(&file).unwrap_err();
            assert!(err.starts_with("bot.districts (from local.toml"), "{err}");
            assert!(err.contains(expected), "{expected} in {err}");
        }
    }
}
