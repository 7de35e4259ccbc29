//! An optimizer's options by name, as a param group overrides them (`{ layers = [3], weight_decay
//! = 0.0 }`) and as a hyperparameter schedule sets them every step (`weight_decay`, `betas[1]`).

use super::Optimizer;
use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Where a scheduled value goes in an optimizer's options: a number (`weight_decay`) or one
/// element of a list (`betas[1]`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.field),
            None => f.write_str(&self.field),
        }
    }
}

impl Optimizer {
    /// The run's optimizer with a param group's options in place of its own (the kind stays);
    /// errors name the option and the rule.
    pub fn with_options(&self, options: &toml::Table) -> Result<Optimizer> {
        if options.contains_key("kind") {
            bail!("`kind`: a param group takes the run's optimizer; give only its options");
        }
        let toml::Value::Table(mut table) = toml::Value::try_from(self)? else {
            bail!("internal: an optimizer is a table");
        };
        for (key, value) in options {
            table.insert(key.clone(), value.clone());
        }
        Optimizer::from_toml(toml::Value::Table(table))
    }

    /// The value in `slot`; errors say which options are numbers.
    pub fn value(&self, slot: &Slot) -> Result<f32> {
        let json = serde_json::to_value(self)?;
        let number = Self::at(&json, slot)
            .and_then(Value::as_f64)
            .with_context(|| self.not_a_number(slot))?;
        Ok(number as f32)
    }

    /// This optimizer with `value` in `slot`, checked by the optimizer's own rules.
    pub fn with_value(&self, slot: &Slot, value: f32) -> Result<Optimizer> {
        let mut json = serde_json::to_value(self)?;
        let target = match slot.index {
            Some(i) => json.get_mut(&slot.field).and_then(|v| v.get_mut(i)),
            None => json.get_mut(&slot.field),
        };
        match target {
            Some(v) if v.is_number() => *v = Value::from(value),
            _ => bail!(self.not_a_number(slot)),
        }
        let optimizer: Optimizer = serde_json::from_value(json)?;
        optimizer.check()?;
        Ok(optimizer)
    }

    /// The slot PyTorch's momentum cycling drives: `betas[0]` of an optimizer with `betas`, else
    /// `momentum` (OneCycleLR's and CyclicLR's rule).
    pub fn momentum_slot(&self) -> Slot {
        let json = serde_json::to_value(self).unwrap_or_default();
        match json.get("betas") {
            Some(_) => Slot {
                field: "betas".into(),
                index: Some(0),
            },
            None => Slot {
                field: "momentum".into(),
                index: None,
            },
        }
    }

    fn at<'a>(json: &'a Value, slot: &Slot) -> Option<&'a Value> {
        let v = json.get(&slot.field)?;
        match slot.index {
            Some(i) => v.get(i),
            None => Some(v),
        }
    }

    /// "`betas[2]`: not a number option of AdamW; those are: lr-free names..."
    fn not_a_number(&self, slot: &Slot) -> String {
        let json = serde_json::to_value(self).unwrap_or_default();
        let mut names = Vec::new();
        if let Value::Object(map) = &json {
            for (k, v) in map {
                match v {
                    Value::Number(_) => names.push(k.clone()),
                    Value::Array(items) => {
                        names.extend((0..items.len()).map(|i| format!("{k}[{i}]")))
                    }
                    _ => {}
                }
            }
        }
        format!(
            "`{slot}` is not a number option of {}; those are: {}",
            self.kind(),
            names.join(", ")
        )
    }
}
