//! `recalign ids show`: an item's semantic code and its neighbours.

use std::io::Write;

use anyhow::{Result, bail};
use recalign_data::{Dataset, ItemIdx, codes};

use crate::args::{GlobalArgs, IdsShowArgs};

pub fn show(global: &GlobalArgs, args: &IdsShowArgs) -> Result<()> {
    let loaded = super::load_dataset(global, &args.dataset.resolve()?)?;
    let data = &loaded.dataset;
    let item = find(data, &args.item)?;
    let near = codes::neighbourhood(data, item)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "item    {}", describe(data, item))?;
    writeln!(out, "code    {}", near.code.join(" "))?;
    for (depth, sharing) in near.sharing.iter().enumerate() {
        let prefix: String = near.code[..=depth].concat();
        let shown = sharing.len().min(args.limit);
        writeln!(
            out,
            "\nsharing {prefix}: {} other items{}",
            sharing.len(),
            if shown < sharing.len() {
                format!(", the first {shown}")
            } else {
                String::new()
            }
        )?;
        for &other in &sharing[..shown] {
            writeln!(out, "  {}", describe(data, other))?;
        }
    }
    Ok(())
}

/// The item named by a raw id or an identifier.
fn find(data: &Dataset, name: &str) -> Result<ItemIdx> {
    if let Some(item) = data.item_by_raw_id(name) {
        return Ok(item);
    }
    match data.items().iter().position(|i| i.identifier == name) {
        Some(i) => Ok(ItemIdx(i as u32)),
        None => bail!(
            "no item of `{}` has the raw id or identifier `{name}`",
            data.name
        ),
    }
}

fn describe(data: &Dataset, item: ItemIdx) -> String {
    let i = data.item(item);
    format!(
        "{}  {}  {}",
        i.raw_id,
        i.identifier,
        i.title().unwrap_or("(no title)")
    )
}
