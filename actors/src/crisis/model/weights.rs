//! The learned layer's weights and their file format.
//!
//! The file is what `cbln crisis train` writes and what the binary embeds (`models/crisis-risk.bin`);
//! an operator may point `crisis.model_file` at a retrained one. Layout, little endian:
//!
//! ```text
//! "CBLNRISK" | version u32 | bits u32 | classes u32 | class names (u8 length + UTF-8) ...
//! thresholds f32 × classes | elevated ratio f32 | bias f32 × classes | scale f32 × classes
//! meta length u32 | meta (JSON) | weights i16 × classes × 2^bits, feature-major
//! step threshold f32 | step bias f32 | step scale f32 | step weights i16 × 2^bits
//! ```
//!
//! The step head is a separate binary classifier read only on turns of a conversation already in
//! crisis: does this message name a concrete safety step that ends it?
//!
//! Weights are quantised to 16 bits per class (scale = largest magnitude / 32767): it halves the
//! file and changes no decision measurably. Feature-major order puts a feature's weights for every
//! class in one cache line.

use serde::{Deserialize, Serialize};

use super::features::Features;
use crate::crisis::types::{Category, Severity};

const MAGIC: &[u8; 8] = b"CBLNRISK";
const VERSION: u32 = 2;
/// The widest hash the loader accepts (2^22 features × 5 classes × 2 bytes = 40 MiB).
const MAX_BITS: u32 = 22;

/// The model embedded in the binary.
const EMBEDDED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/crisis-risk.bin"
));

/// What a model was trained on and how, for `cbln crisis eval` and the corpus tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// SHA-256 over the training files, in path order; the corpus test checks it is current.
    pub corpus_fingerprint: String,
    /// The training seed.
    pub seed: u64,
    /// Examples trained on (single messages plus conversation turns).
    pub examples: usize,
    /// Training epochs.
    pub epochs: u32,
    /// The false-positive budget the thresholds were chosen for (cross-validated).
    pub fpr_budget: f64,
    /// Cross-validated recall and false-positive rate at the chosen thresholds.
    pub cv_recall: f64,
    /// See `cv_recall`.
    pub cv_fpr: f64,
    /// Cross-validated share of safety steps recognised (rule phrases and step head together).
    #[serde(default)]
    pub step_cv_recall: f64,
    /// Cross-validated share of continuing crises a misread step would end.
    #[serde(default)]
    pub step_cv_false_rate: f64,
    /// A rule verdict at or above this severity is a crisis whatever the model says; `None`:
    /// the model decides everything (the rules still feed it).
    #[serde(default)]
    pub rules_override: Option<Severity>,
    /// When the rules find a crisis below the override, the model confirms it at this fraction of
    /// its threshold (1.0: the rules get no say of their own).
    #[serde(default = "full_ratio")]
    pub rules_ratio: f32,
}

fn full_ratio() -> f32 {
    1.0
}

/// Why a model file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    /// Not a model file, or one cut short.
    #[error("not a crisis model file ({0})")]
    Malformed(&'static str),
    /// A version or width this build cannot read.
    #[error("unsupported crisis model ({0})")]
    Unsupported(String),
}

/// Logistic regression, one-vs-rest per crisis category, over hashed features.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskModel {
    bits: u32,
    classes: Vec<Category>,
    thresholds: Vec<f32>,
    elevated_ratio: f32,
    bias: Vec<f32>,
    /// Feature-major: `weights[feature * classes + class]`.
    weights: Vec<f32>,
    step: StepHead,
    meta: ModelMeta,
}

/// The safety-step classifier over the same features.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepHead {
    /// A probability at or above this is a step (above 1.0: the head never fires).
    pub(crate) threshold: f32,
    pub(crate) bias: f32,
    pub(crate) weights: Vec<f32>,
}

impl StepHead {
    fn zeroed(bits: u32) -> Self {
        StepHead {
            threshold: 2.0,
            bias: 0.0,
            weights: vec![0.0; 1usize << bits],
        }
    }
}

/// The model's reading of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScores {
    /// Probability per class, in [`RiskModel::classes`] order.
    pub probabilities: Vec<f32>,
    /// Probability over threshold per class: 1.0 or more is a crisis of that class.
    pub ratios: Vec<f32>,
}

impl ModelScores {
    /// The class whose ratio is highest, with that ratio.
    pub fn strongest(&self) -> Option<(usize, f32)> {
        self.ratios
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

impl RiskModel {
    /// A model with every weight zero: it never fires (used to start training).
    pub fn zeroed(bits: u32, classes: Vec<Category>) -> Self {
        let width = classes.len();
        RiskModel {
            bits,
            thresholds: vec![1.0; width],
            elevated_ratio: 0.5,
            bias: vec![0.0; width],
            weights: vec![0.0; (1usize << bits) * width],
            step: StepHead::zeroed(bits),
            classes,
            meta: ModelMeta::default(),
        }
    }

    /// The model compiled into the binary.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::from_bytes(EMBEDDED)
    }

    /// The hash width.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The categories, in score order.
    pub fn classes(&self) -> &[Category] {
        &self.classes
    }

    /// Decision thresholds per class.
    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    /// A message whose strongest ratio reaches this is `elevated` when it is not a crisis.
    pub fn elevated_ratio(&self) -> f32 {
        self.elevated_ratio
    }

    /// What the model was trained on.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub(crate) fn set_thresholds(&mut self, thresholds: Vec<f32>, elevated_ratio: f32) {
        self.thresholds = thresholds;
        self.elevated_ratio = elevated_ratio;
    }

    pub(crate) fn set_meta(&mut self, meta: ModelMeta) {
        self.meta = meta;
    }

    pub(crate) fn parameters_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.weights, &mut self.bias)
    }

    pub(crate) fn set_step_head(&mut self, step: StepHead) {
        self.step = step;
    }

    /// The probability that a turn of a conversation in crisis names a concrete safety step.
    pub fn step_probability(&self, features: &Features) -> f32 {
        sigmoid(self.step.logit(features))
    }

    /// The step head's decision threshold.
    pub fn step_threshold(&self) -> f32 {
        self.step.threshold
    }

    /// The raw score (log-odds) of every class.
    pub fn logits(&self, features: &Features) -> Vec<f32> {
        let width = self.classes.len();
        let mut out = self.bias.clone();
        for (&index, &value) in features.indices.iter().zip(&features.values) {
            let base = index as usize * width;
            if let Some(row) = self.weights.get(base..base + width) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += w * value;
                }
            }
        }
        out
    }

    /// Probabilities and threshold ratios of every class.
    pub fn score(&self, features: &Features) -> ModelScores {
        let probabilities: Vec<f32> = self.logits(features).into_iter().map(sigmoid).collect();
        let ratios = probabilities
            .iter()
            .zip(&self.thresholds)
            .map(|(p, t)| if *t > 0.0 { p / t } else { 0.0 })
            .collect();
        ModelScores {
            probabilities,
            ratios,
        }
    }

    /// Each feature's contribution to one class's score, largest first.
    pub fn contributions(&self, features: &Features, class: usize) -> Vec<(usize, f32)> {
        let width = self.classes.len();
        let mut out: Vec<(usize, f32)> = features
            .indices
            .iter()
            .zip(&features.values)
            .enumerate()
            .map(|(position, (&index, &value))| {
                let w = self
                    .weights
                    .get(index as usize * width + class)
                    .copied()
                    .unwrap_or(0.0);
                (position, w * value)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    /// The file form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let width = self.classes.len();
        let mut out = Vec::with_capacity(64 + self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&u32::try_from(width).unwrap_or(0).to_le_bytes());
        for class in &self.classes {
            let name = class.as_str().as_bytes();
            out.push(u8::try_from(name.len()).unwrap_or(0));
            out.extend_from_slice(name);
        }
        let scales: Vec<f32> = (0..width)
            .map(|c| scale_for(self.weights.iter().skip(c).step_by(width.max(1))))
            .collect();
        for values in [
            &self.thresholds,
            &vec![self.elevated_ratio],
            &self.bias,
            &scales,
        ] {
            for v in values.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let meta = serde_json::to_vec(&self.meta).unwrap_or_default();
        out.extend_from_slice(&u32::try_from(meta.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&meta);
        for (i, w) in self.weights.iter().enumerate() {
            out.extend_from_slice(&quantise(*w, scales[i % width]).to_le_bytes());
        }
        let step_scale = scale_for(self.step.weights.iter());
        for v in [self.step.threshold, self.step.bias, step_scale] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for w in &self.step.weights {
            out.extend_from_slice(&quantise(*w, step_scale).to_le_bytes());
        }
        out
    }

    /// Reads the file form; refuses anything malformed instead of guessing.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(ModelError::Malformed("no CBLNRISK header"));
        }
        let version = r.u32()?;
        if !(1..=VERSION).contains(&version) {
            return Err(ModelError::Unsupported(format!("format version {version}")));
        }
        let bits = r.u32()?;
        if !(8..=MAX_BITS).contains(&bits) {
            return Err(ModelError::Unsupported(format!("{bits}-bit hashing")));
        }
        let width = r.u32()? as usize;
        if width == 0 || width > Category::ALL.len() {
            return Err(ModelError::Malformed("class count"));
        }
        let mut classes = Vec::with_capacity(width);
        for _ in 0..width {
            let len = usize::from(r.take(1)?[0]);
            let name = std::str::from_utf8(r.take(len)?)
                .map_err(|_| ModelError::Malformed("class name"))?;
            classes
                .push(Category::parse(name).ok_or_else(|| {
                    ModelError::Unsupported(format!("unknown category {name:?}"))
                })?);
        }
        let thresholds = r.f32s(width)?;
        let elevated_ratio = r.f32s(1)?[0];
        let bias = r.f32s(width)?;
        let scales = r.f32s(width)?;
        let meta_len = r.u32()? as usize;
        let meta: ModelMeta = serde_json::from_slice(r.take(meta_len)?)
            .map_err(|_| ModelError::Malformed("metadata"))?;
        let count = (1usize << bits) * width;
        let weights = r.i16s(count, |i| scales[i % width])?;
        // Version 1 files predate the step head: their steps come from the rule phrases alone.
        let (step, step_scale) = if version == 1 {
            (StepHead::zeroed(bits), 1.0)
        } else {
            let [threshold, bias, scale] = r.f32s(3)?[..] else {
                return Err(ModelError::Malformed("step head"));
            };
            let weights = r.i16s(1usize << bits, |_| scale)?;
            (
                StepHead {
                    threshold,
                    bias,
                    weights,
                },
                scale,
            )
        };
        if r.at != bytes.len() {
            return Err(ModelError::Malformed("trailing bytes"));
        }
        // A damaged parameter must stop startup, not silently switch a category off.
        if thresholds
            .iter()
            .chain(&bias)
            .chain(&scales)
            .chain([&elevated_ratio, &step.threshold, &step.bias, &step_scale])
            .any(|v| !v.is_finite())
        {
            return Err(ModelError::Malformed("non-finite parameter"));
        }
        if thresholds.iter().any(|t| *t <= 0.0 || *t > 1.0) {
            return Err(ModelError::Malformed("threshold outside (0, 1]"));
        }
        // Above 1.0 is how a model without a trained step head says "never".
        if step.threshold <= 0.0 {
            return Err(ModelError::Malformed("step threshold not positive"));
        }
        Ok(RiskModel {
            bits,
            classes,
            thresholds,
            elevated_ratio,
            bias,
            weights,
            step,
            meta,
        })
    }
}

impl StepHead {
    pub(crate) fn logit(&self, features: &Features) -> f32 {
        features
            .indices
            .iter()
            .zip(&features.values)
            .fold(self.bias, |sum, (&index, &value)| {
                sum + self.weights.get(index as usize).copied().unwrap_or(0.0) * value
            })
    }
}

/// The scale that maps the largest weight magnitude onto `i16::MAX`.
fn scale_for<'a>(weights: impl Iterator<Item = &'a f32>) -> f32 {
    let largest = weights.fold(0.0f32, |m, w| m.max(w.abs()));
    if largest > 0.0 {
        largest / f32::from(i16::MAX)
    } else {
        1.0
    }
}

fn quantise(weight: f32, scale: f32) -> i16 {
    (weight / scale).round().clamp(-32767.0, 32767.0) as i16
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ModelError::Malformed("cut short"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, ModelError> {
        (0..n).map(|_| self.u32().map(f32::from_bits)).collect()
    }

    /// `n` quantised weights, the i-th scaled by `scale(i)`.
    fn i16s(&mut self, n: usize, scale: impl Fn(usize) -> f32) -> Result<Vec<f32>, ModelError> {
        let raw = self.take(n * 2)?;
        Ok(raw
            .chunks_exact(2)
            .enumerate()
            .map(|(i, pair)| f32::from(i16::from_le_bytes([pair[0], pair[1]])) * scale(i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RiskModel {
        let mut model = RiskModel::zeroed(8, vec![Category::Suicide, Category::Abuse]);
        let (weights, bias) = model.parameters_mut();
        weights[3] = 1.5;
        weights[10] = -0.25;
        bias[1] = -2.0;
        model.set_thresholds(vec![0.4, 0.6], 0.5);
        let mut step = StepHead::zeroed(8);
        step.weights[5] = 0.75;
        step.bias = -1.0;
        step.threshold = 0.6;
        model.set_step_head(step);
        model.set_meta(ModelMeta {
            seed: 7,
            ..ModelMeta::default()
        });
        model
    }

    #[test]
    fn round_trips_within_quantisation() {
        let model = sample();
        let back = RiskModel::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!(back.classes(), model.classes());
        assert_eq!(back.thresholds(), model.thresholds());
        assert_eq!(back.meta().seed, 7);
        for (a, b) in back.weights.iter().zip(&model.weights) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        assert_eq!(back.step_threshold(), 0.6);
        assert_eq!(back.step.bias, -1.0);
        for (a, b) in back.step.weights.iter().zip(&model.step.weights) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn refuses_damaged_files() {
        let bytes = sample().to_bytes();
        assert_eq!(
            RiskModel::from_bytes(&bytes[..bytes.len() - 1]),
            Err(ModelError::Malformed("cut short"))
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            RiskModel::from_bytes(&longer),
            Err(ModelError::Malformed("trailing bytes"))
        );
        assert_eq!(
            RiskModel::from_bytes(b"not a model"),
            Err(ModelError::Malformed("no CBLNRISK header"))
        );
        // Thresholds start right after the class names (8 + 4 + 4 + 4 + 1 + 7 + 1 + 5 bytes).
        let mut nan = bytes.clone();
        nan[34..38].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(
            RiskModel::from_bytes(&nan),
            Err(ModelError::Malformed("non-finite parameter"))
        );
        let mut zero = bytes.clone();
        zero[34..38].copy_from_slice(&0.0f32.to_le_bytes());
        assert_eq!(
            RiskModel::from_bytes(&zero),
            Err(ModelError::Malformed("threshold outside (0, 1]"))
        );
        let mut wide = bytes;
        wide[12..16].copy_from_slice(&40u32.to_le_bytes());
        assert!(matches!(
            RiskModel::from_bytes(&wide),
            Err(ModelError::Unsupported(_))
        ));
    }

    #[test]
    fn the_embedded_model_loads() {
        let model = RiskModel::embedded().unwrap();
        assert_eq!(model.classes(), Category::ALL);
    }
}
