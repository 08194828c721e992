//! The shop's fixed tables: departments, brands, attributes, subcategories
//! and product types with their sizes, prices and follow-ups.
//!
//! They live in `catalogue.toml`, compiled into the crate, so that the data
//! reads as data and the generator as code. The file is parsed once, on
//! first use, into indices the generator can use directly (a type's
//! department, subcategory and follow-ups). An embedded file that does not
//! parse is a bug in this crate, so it panics; a test parses it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// A department: its brands, the attributes titles are made of, and how its
/// descriptions end.
pub(super) struct Department {
    pub(super) name: String,
    pub(super) brands: Vec<String>,
    pub(super) attributes: Vec<String>,
    pub(super) describe: String,
}

/// A subcategory of a department and its product types.
pub(super) struct Subcategory {
    pub(super) name: String,
    pub(super) department: usize,
    /// Indices in [`Catalogue::types`], in file order.
    pub(super) types: Vec<usize>,
}

/// A kind of product, such as a serum or a tent.
pub(super) struct ProductType {
    pub(super) name: String,
    pub(super) department: usize,
    /// Index in [`Catalogue::subcategories`].
    pub(super) subcategory: usize,
    pub(super) sizes: Vec<String>,
    pub(super) base_price: f64,
    /// Indices in [`Catalogue::types`] of the types that may come next.
    pub(super) follow_ups: Vec<usize>,
}

/// The parsed tables, everything in file order.
pub(super) struct Catalogue {
    pub(super) departments: Vec<Department>,
    pub(super) subcategories: Vec<Subcategory>,
    pub(super) types: Vec<ProductType>,
}

impl Catalogue {
    /// The embedded catalogue, parsed on first use.
    pub(super) fn embedded() -> &'static Catalogue {
        static EMBEDDED: LazyLock<Catalogue> = LazyLock::new(|| {
            Catalogue::parse(include_str!("catalogue.toml"))
                .unwrap_or_else(|e| panic!("the embedded synthetic catalogue is invalid: {e}"))
        });
        &EMBEDDED
    }

    /// Parses and checks a catalogue file: type names are unique, sizes
    /// that name a set name one of `[sizes]`, lists the generator draws
    /// from are non-empty, and follow-ups name a product type of the same
    /// department.
    fn parse(text: &str) -> Result<Catalogue, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut catalogue = Catalogue {
            departments: Vec::new(),
            subcategories: Vec::new(),
            types: Vec::new(),
        };
        let mut follow_ups: Vec<Vec<String>> = Vec::new();
        for (d, department) in file.department.into_iter().enumerate() {
            non_empty(&department.name, "brands", &department.brands)?;
            non_empty(&department.name, "attributes", &department.attributes)?;
            non_empty(&department.name, "subcategories", &department.subcategory)?;
            for subcategory in department.subcategory {
                non_empty(&subcategory.name, "types", &subcategory.types)?;
                let mut types = Vec::new();
                for entry in subcategory.types {
                    let sizes = match entry.sizes {
                        Sizes::Set(name) => file
                            .sizes
                            .get(&name)
                            .cloned()
                            .ok_or_else(|| format!("{}: no size set `{name}`", entry.name))?,
                        Sizes::List(sizes) => sizes,
                    };
                    non_empty(&entry.name, "sizes", &sizes)?;
                    if catalogue.types.iter().any(|t| t.name == entry.name) {
                        return Err(format!("{}: named twice", entry.name));
                    }
                    types.push(catalogue.types.len());
                    follow_ups.push(entry.follow_ups);
                    catalogue.types.push(ProductType {
                        name: entry.name,
                        department: d,
                        subcategory: catalogue.subcategories.len(),
                        sizes,
                        base_price: entry.price,
                        follow_ups: Vec::new(),
                    });
                }
                catalogue.subcategories.push(Subcategory {
                    name: subcategory.name,
                    department: d,
                    types,
                });
            }
            catalogue.departments.push(Department {
                name: department.name,
                brands: department.brands,
                attributes: department.attributes,
                describe: department.describe,
            });
        }
        if catalogue.departments.len() < 2 {
            return Err("shoppers need at least two departments to choose from".to_string());
        }
        for (t, names) in follow_ups.into_iter().enumerate() {
            let from = &catalogue.types[t];
            let next = names
                .iter()
                .map(|name| {
                    catalogue
                        .types
                        .iter()
                        .position(|u| u.name == *name && u.department == from.department)
                        .ok_or_else(|| {
                            format!("{} -> {name}: no such type in its department", from.name)
                        })
                })
                .collect::<Result<Vec<usize>, String>>()?;
            catalogue.types[t].follow_ups = next;
        }
        Ok(catalogue)
    }
}

fn non_empty<T>(owner: &str, what: &str, list: &[T]) -> Result<(), String> {
    if list.is_empty() {
        return Err(format!("{owner}: no {what}"));
    }
    Ok(())
}

/// `catalogue.toml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    sizes: BTreeMap<String, Vec<String>>,
    department: Vec<DepartmentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentEntry {
    name: String,
    describe: String,
    brands: Vec<String>,
    attributes: Vec<String>,
    subcategory: Vec<SubcategoryEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubcategoryEntry {
    name: String,
    types: Vec<TypeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeEntry {
    name: String,
    sizes: Sizes,
    price: f64,
    follow_ups: Vec<String>,
}

/// A size set of `[sizes]` by name, or a type's own list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Sizes {
    Set(String),
    List(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_parses_as_documented() {
        let catalogue = Catalogue::embedded();
        assert_eq!(catalogue.departments.len(), 3);
        assert!(catalogue.departments.iter().all(|d| d.brands.len() == 8));
        assert_eq!(catalogue.subcategories.len(), 15);
        assert_eq!(catalogue.types.len(), 59);
        for (s, sub) in catalogue.subcategories.iter().enumerate() {
            for &t in &sub.types {
                assert_eq!(catalogue.types[t].subcategory, s);
                assert_eq!(catalogue.types[t].department, sub.department);
            }
        }
        let serum = &catalogue.types[2];
        assert_eq!(serum.name, "Serum");
        assert_eq!(serum.sizes, ["30 ml", "50 ml", "100 ml"]);
        let next: Vec<&str> = serum
            .follow_ups
            .iter()
            .map(|&t| catalogue.types[t].name.as_str())
            .collect();
        assert_eq!(next, ["Moisturizer", "Eye Cream"]);
    }

    #[test]
    fn follow_ups_stay_in_their_department_and_sizes_must_exist() {
        // Two departments of one type each: `T` with `sizes` and `next`,
        // and `U`, which follows itself.
        let department = |name: &str, product: &str, sizes: &str, next: &str| {
            format!(
                r#"
                [[department]]
                name = "{name}"
                describe = "d"
                brands = ["B"]
                attributes = ["X"]
                [[department.subcategory]]
                name = "S"
                types = [{{ name = "{product}", sizes = {sizes}, price = 1.0, follow_ups = ["{next}"] }}]
                "#
            )
        };
        let file = |sizes: &str, next: &str| {
            format!(
                "[sizes]\npack = [\"Single\"]\n{}{}",
                department("A", "T", sizes, next),
                department("B", "U", "[\"One\"]", "U")
            )
        };
        assert!(Catalogue::parse(&file("\"pack\"", "T")).is_ok());
        let err = Catalogue::parse(&file("\"pack\"", "U")).err().unwrap();
        assert!(err.contains("T -> U"), "{err}");
        let err = Catalogue::parse(&file("\"huge\"", "T")).err().unwrap();
        assert!(err.contains("no size set `huge`"), "{err}");
        let err = Catalogue::parse(&file("[]", "T")).err().unwrap();
        assert!(err.contains("T: no sizes"), "{err}");
        let one = format!("[sizes]\n{}", department("A", "T", "[\"One\"]", "T"));
        let err = Catalogue::parse(&one).err().unwrap();
        assert!(err.contains("at least two departments"), "{err}");
        assert!(Catalogue::parse("[sizes]\nextra = 1").is_err());
    }
}
