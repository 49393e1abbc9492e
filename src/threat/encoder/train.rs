//! Training the encoder: tokenizer, then AdamW on class-weighted, label-smoothed cross-entropy,
//! with dev figures per epoch, early stopping, checkpoints and resume.
//!
//! Texts go through [`normalize`] first, exactly as at prediction. Everything random (weight
//! initialization, shuffling, dropout masks) comes from [`SplitMix`] seeded by the options and
//! the epoch, so a run repeats exactly for a seed, and a run resumed from the checkpoint of
//! epoch N shuffles epoch N+1 as the uninterrupted run would have.
//!
//! Batches are bucketed by length: a shuffled pool of `batch_size * BUCKET_POOL_BATCHES`
//! examples is sorted by token count and cut into batches, whose order is shuffled again. Padding
//! then costs little while every batch still mixes labels and sources.
//!
//! Rare labels are weighted `(largest class / class count) ^ class_weight_power` (0.5: a label
//! 80 times rarer than benign weighs 9 times more), and the loss is normalized by the batch's
//! total weight. Each epoch also leaves out a random tenth of every text's tokens
//! (`token_dropout`), so no single token carries a label.
//!
//! The epoch kept is the one with the lowest dev loss; training stops after `patience` epochs
//! without a lower one. Speed on the 2-core machine: about 330 examples a second for the
//! default shape with `CANDLE_NUM_THREADS=1` (the CLI sets it), so 40k examples × 12 epochs
//! take about 25 minutes.

use super::tokenizer::train_tokenizer;
use super::{pad_batch, Activation, Dropout, EncoderClassifier, EncoderConfig, Network, SplitMix};
use crate::threat::normalize::normalize;
use crate::threat::{Classifier, LabelProbs, ThreatError, ThreatExample, LABELS};
use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Batches per length-sorted pool (see the module notes).
const BUCKET_POOL_BATCHES: usize = 50;
/// Name of the training state written beside each checkpoint's model files.
pub const STATE_FILE: &str = "train-state.json";

/// Everything that shapes a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderTrainOptions {
    /// Model name with version; the classifier id is `encoder/<name>`.
    pub name: String,
    /// Tokenizer vocabulary, special tokens included.
    pub vocab_size: usize,
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn_dim: usize,
    pub activation: Activation,
    pub max_len: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate, reached after the warmup and decayed along a cosine to a tenth.
    pub learning_rate: f64,
    /// Fraction of all steps spent warming the learning rate up linearly.
    pub warmup_fraction: f64,
    /// AdamW decoupled weight decay of the matrices and embeddings (not biases or norms).
    pub weight_decay: f64,
    pub dropout: f32,
    /// Probability of leaving a token out of a training text (each epoch anew): the model
    /// must not hang on any single token, as a payload variant or a new log format lacks it.
    pub token_dropout: f32,
    /// Mass spread evenly over all labels in each target.
    pub label_smoothing: f32,
    /// Exponent of the inverse-frequency class weights (0: no weighting).
    pub class_weight_power: f32,
    /// Largest global gradient norm; larger gradients are scaled down to it.
    pub grad_clip: f32,
    /// Epochs without a lower dev loss before stopping (0: never stop early).
    pub patience: usize,
    pub seed: u64,
    /// Where `epoch-NNN/` checkpoints and `best/` are written (none: no checkpoints).
    pub checkpoint_dir: Option<PathBuf>,
    /// An `epoch-NNN/` checkpoint to continue from. Its config and tokenizer win over the
    /// options; the optimizer moments are not saved, so they restart (cheap, brief wobble).
    pub resume: Option<PathBuf>,
}

impl Default for EncoderTrainOptions {
    fn default() -> Self {
        EncoderTrainOptions {
            name: "threat-encoder-v1".into(),
            vocab_size: 2000,
            d_model: 64,
            layers: 2,
            heads: 4,
            ffn_dim: 256,
            activation: Activation::Relu,
            max_len: 128,
            epochs: 12,
            batch_size: 32,
            learning_rate: 1e-3,
            warmup_fraction: 0.05,
            weight_decay: 0.01,
            dropout: 0.1,
            token_dropout: 0.1,
            label_smoothing: 0.05,
            class_weight_power: 0.5,
            grad_clip: 1.0,
            patience: 3,
            seed: 7,
            checkpoint_dir: None,
            resume: None,
        }
    }
}

impl EncoderTrainOptions {
    fn validate(&self) -> Result<(), ThreatError> {
        let bad = |m: String| Err(ThreatError::Invalid(format!("encoder training: {m}")));
        if !(1..=10_000).contains(&self.epochs) {
            return bad(format!("epochs {} is outside 1..=10000", self.epochs));
        }
        if !(1..=4096).contains(&self.batch_size) {
            return bad(format!("batch size {} is outside 1..=4096", self.batch_size));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad(format!("learning rate {} is outside (0, 1)", self.learning_rate));
        }
        if !(0.0..1.0).contains(&self.warmup_fraction) || !(0.0..1.0).contains(&self.weight_decay) {
            return bad("warmup fraction and weight decay must be in [0, 1)".into());
        }
        if ![self.dropout, self.token_dropout, self.label_smoothing].iter().all(|p| (0.0..1.0).contains(p)) {
            return bad("dropout, token dropout and label smoothing must be in [0, 1)".into());
        }
        if !((0.0..=4.0).contains(&self.class_weight_power) && self.grad_clip > 0.0 && self.grad_clip.is_finite()) {
            return bad("class weight power must be in [0, 4] and the gradient clip positive".into());
        }
        Ok(())
    }

    fn config(&self, vocab_size: usize) -> EncoderConfig {
        let mut c = EncoderConfig::new(&self.name, vocab_size, self.d_model, self.layers, self.heads, self.max_len);
        c.ffn_dim = self.ffn_dim;
        c.activation = self.activation;
        c
    }
}

/// Figures of a model on labelled examples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DevFigures {
    pub examples: usize,
    /// Mean negative log-probability of the true label.
    pub loss: f64,
    /// The most probable label is the true one.
    pub accuracy: f64,
    /// Mean F1 over the labels present in the truth or the predictions.
    pub macro_f1: f64,
    /// Threat vs benign, threat when P(benign) < 0.5.
    pub binary_precision: f64,
    pub binary_recall: f64,
    pub binary_f1: f64,
    /// `confusion[truth][predicted]` counts, in [`LABELS`] order.
    pub confusion: Vec<Vec<usize>>,
}

/// One finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based.
    pub epoch: usize,
    /// Mean weighted training loss over the epoch (dropout on).
    pub train_loss: f64,
    /// None without dev examples.
    pub dev: Option<DevFigures>,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    pub seconds: f64,
    /// Whether this epoch is the best so far (it is the one kept).
    pub best: bool,
}

/// What the training callback hears.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainProgress {
    /// The tokenizer is trained (or was loaded from the resumed checkpoint).
    Tokenizer { vocab_size: usize, seconds: f64 },
    /// One optimizer step done.
    Step {
        /// 1-based.
        epoch: usize,
        epochs: usize,
        /// 1-based within the epoch.
        step: usize,
        steps: usize,
        /// Mean training loss so far in this epoch.
        loss: f64,
        /// Training examples per second in this epoch.
        examples_per_second: f64,
    },
    /// An epoch is done, dev figures included.
    Epoch(EpochFigures),
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderTrainReport {
    pub name: String,
    pub parameters: usize,
    /// Size of the f32 weights.
    pub weight_bytes: usize,
    pub vocab_size: usize,
    pub train_examples: usize,
    pub dev_examples: usize,
    pub train_label_counts: BTreeMap<String, usize>,
    pub class_weights: BTreeMap<String, f32>,
    pub epochs: Vec<EpochFigures>,
    /// The epoch whose weights were kept (1-based; 0 if none ran).
    pub best_epoch: usize,
    pub stopped_early: bool,
    pub seconds: f64,
}

/// The state saved with a checkpoint, enough to resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainState {
    epoch: usize,
    best_epoch: usize,
    best_score: f64,
    epochs_without_gain: usize,
    history: Vec<EpochFigures>,
}

/// Trains a tokenizer and an encoder on `train`, measuring on `dev` after each epoch (may be
/// empty: the last epoch is then kept), and returns the best model with the run's report.
pub fn train_encoder(
    train: &[ThreatExample],
    dev: &[ThreatExample],
    opts: &EncoderTrainOptions,
    progress: &mut dyn FnMut(&TrainProgress),
) -> Result<(EncoderClassifier, EncoderTrainReport), ThreatError> {
    opts.validate()?;
    if opts.resume.is_none() {
        // The shape is checked before minutes go into the tokenizer.
        opts.config(*super::tokenizer::VOCAB_RANGE.start()).validate()?;
    }
    if train.is_empty() {
        return Err(ThreatError::Invalid("encoder training: no training examples".into()));
    }
    let started = Instant::now();
    let texts: Vec<String> = train.iter().map(|e| normalize(&e.text).text).collect();
    let labels: Vec<usize> = train.iter().map(|e| e.threat_type.index()).collect();

    let (model, state) = match &opts.resume {
        Some(dir) => {
            let model = EncoderClassifier::from_dir(dir)?;
            let path = dir.join(STATE_FILE);
            let data =
                std::fs::read(&path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })?;
            let state: TrainState = serde_json::from_slice(&data).map_err(|e| ThreatError::Model {
                path: path.display().to_string(),
                message: format!("not a training state: {e}"),
            })?;
            (model, Some(state))
        }
        None => {
            let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
            let tokenizer = train_tokenizer(&refs, opts.vocab_size)?;
            let config = opts.config(tokenizer.vocab_size());
            (EncoderClassifier::initialized(config, tokenizer, opts.seed)?, None)
        }
    };
    progress(&TrainProgress::Tokenizer {
        vocab_size: model.tokenizer().vocab_size(),
        seconds: started.elapsed().as_secs_f64(),
    });
    let config = model.config().clone();
    let tokenizer = model.tokenizer().clone();
    let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
    let rows = tokenizer.encode_batch(&refs, config.max_len)?;
    let lengths: Vec<usize> = rows.iter().map(|r| r.len()).collect();
    let (label_counts, class_weights) = class_weights(&labels, opts.class_weight_power);

    // Training state: the weights as candle Vars, a differentiable network over them, and a
    // prediction network over detached views of the same storage for the dev figures.
    let vars: Vec<(String, Var)> = model
        .named_weights()
        .into_iter()
        .map(|(n, t)| Ok((n, Var::from_tensor(&t)?)))
        .collect::<Result<_, candle_core::Error>>()?;
    let var_tensors: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
    let network = Network::from_tensors(&config, &var_tensors, true)?;
    let views: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().detach())).collect();
    let current = EncoderClassifier::from_parts(config.clone(), views, tokenizer.clone())?;
    let (decayed, plain): (Vec<_>, Vec<_>) = vars.iter().map(|(_, v)| v.clone()).partition(|v| v.rank() == 2);
    let mut decayed_opt = AdamW::new(
        decayed,
        ParamsAdamW { lr: opts.learning_rate, weight_decay: opts.weight_decay, ..Default::default() },
    )?;
    let mut plain_opt =
        AdamW::new(plain, ParamsAdamW { lr: opts.learning_rate, weight_decay: 0.0, ..Default::default() })?;

    let steps_per_epoch = rows.len().div_ceil(opts.batch_size);
    let total_steps = steps_per_epoch * opts.epochs;
    let warmup_steps = ((total_steps as f64 * opts.warmup_fraction) as usize).max(1);
    let schedule = |step: usize| -> f64 {
        if step < warmup_steps {
            return opts.learning_rate * (step + 1) as f64 / warmup_steps as f64;
        }
        let t = (step - warmup_steps) as f64 / (total_steps - warmup_steps).max(1) as f64;
        let floor = 0.1;
        opts.learning_rate * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
    };

    let (mut history, mut best_epoch, mut best_score, mut epochs_without_gain, start_epoch) = match state {
        Some(s) => (s.history, s.best_epoch, s.best_score, s.epochs_without_gain, s.epoch),
        None => (Vec::new(), 0, f64::MIN, 0, 0),
    };
    let mut best_weights: Option<HashMap<String, Tensor>> = None;
    if best_epoch > 0 && best_epoch != start_epoch {
        // The best epoch is an earlier checkpoint beside the resumed one: keep its weights.
        let dir = opts.resume.as_ref().and_then(|d| d.parent()).map(|p| p.join(epoch_dir_name(best_epoch)));
        if let Some(best) = dir.and_then(|d| EncoderClassifier::from_dir(&d).ok()) {
            best_weights = Some(best.named_weights().into_iter().collect());
        }
    }
    let mut stopped_early = false;
    for epoch in start_epoch + 1..=opts.epochs {
        if opts.patience > 0 && epochs_without_gain >= opts.patience {
            stopped_early = true;
            break;
        }
        let epoch_started = Instant::now();
        let mut rng = SplitMix::new(opts.seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let batches = bucketed_batches(&lengths, opts.batch_size, &mut rng);
        let mut dropout = Dropout { p: opts.dropout, rng: SplitMix::new(rng.next_u64()) };
        let mut token_rng = SplitMix::new(rng.next_u64());
        let (mut loss_sum, mut weight_sum, mut seen) = (0f64, 0f64, 0usize);
        let mut lr = opts.learning_rate;
        for (b, batch) in batches.iter().enumerate() {
            let step = (epoch - 1) * steps_per_epoch + b;
            lr = schedule(step);
            decayed_opt.set_learning_rate(lr);
            plain_opt.set_learning_rate(lr);
            let thinned: Vec<Vec<u32>> =
                batch.iter().map(|&i| drop_tokens(&rows[i], opts.token_dropout, &mut token_rng)).collect();
            let batch_rows: Vec<&[u32]> = thinned.iter().map(|r| r.as_slice()).collect();
            let (ids, real) = pad_batch(&batch_rows, tokenizer.pad_id())?;
            let mut targets = Vec::with_capacity(batch.len() * LABELS.len());
            let mut batch_weight = 0f32;
            for &i in batch {
                let w = class_weights[labels[i]];
                batch_weight += w;
                let spread = opts.label_smoothing / LABELS.len() as f32;
                targets.extend(
                    (0..LABELS.len())
                        .map(|l| w * (spread + if l == labels[i] { 1.0 - opts.label_smoothing } else { 0.0 })),
                );
            }
            let targets = Tensor::from_vec(targets, (batch.len(), LABELS.len()), &Device::Cpu)?;
            let logits = network.forward(&ids, &real, Some(&mut dropout))?;
            let log_probs = candle_nn::ops::log_softmax(&logits, 1)?;
            let loss = ((log_probs * targets)?.sum_all()? * (-1.0 / batch_weight as f64))?;
            let loss_value = loss.to_scalar::<f32>()? as f64;
            if !loss_value.is_finite() {
                return Err(ThreatError::Compute(format!("training diverged: loss {loss_value} at epoch {epoch}")));
            }
            let mut grads = loss.backward()?;
            clip_gradients(&mut grads, &vars, opts.grad_clip)?;
            decayed_opt.step(&grads)?;
            plain_opt.step(&grads)?;
            loss_sum += loss_value * batch_weight as f64;
            weight_sum += batch_weight as f64;
            seen += batch.len();
            progress(&TrainProgress::Step {
                epoch,
                epochs: opts.epochs,
                step: b + 1,
                steps: batches.len(),
                loss: loss_sum / weight_sum.max(f64::MIN_POSITIVE),
                examples_per_second: seen as f64 / epoch_started.elapsed().as_secs_f64().max(1e-9),
            });
        }
        let dev_figures = if dev.is_empty() { None } else { Some(evaluate(&current, dev)?) };
        // The dev loss decides: on a few hundred dev texts accuracy and F1 move in steps of one
        // text and stall while the loss still falls; the loss also rewards calibration, which
        // the ensemble needs. Without dev examples the latest epoch is the best one.
        let score = dev_figures.as_ref().map_or(epoch as f64, |d| -d.loss);
        let improved = score > best_score;
        if improved {
            best_score = score;
            best_epoch = epoch;
            epochs_without_gain = 0;
            best_weights = Some(snapshot(&vars)?);
        } else {
            epochs_without_gain += 1;
        }
        let figures = EpochFigures {
            epoch,
            train_loss: loss_sum / weight_sum.max(f64::MIN_POSITIVE),
            dev: dev_figures,
            learning_rate: lr,
            seconds: epoch_started.elapsed().as_secs_f64(),
            best: improved,
        };
        history.push(figures.clone());
        if let Some(dir) = &opts.checkpoint_dir {
            let state = TrainState { epoch, best_epoch, best_score, epochs_without_gain, history: history.clone() };
            write_checkpoint(&current, &dir.join(epoch_dir_name(epoch)), &state)?;
            if improved {
                write_checkpoint(&current, &dir.join("best"), &state)?;
            }
        }
        progress(&TrainProgress::Epoch(figures));
    }

    let weights = match best_weights {
        Some(w) => w,
        None => snapshot(&vars)?,
    };
    let mut best = EncoderClassifier::from_parts(config.clone(), weights, tokenizer)?;
    let report = EncoderTrainReport {
        name: config.name.clone(),
        parameters: config.parameter_count(),
        weight_bytes: config.parameter_count() * 4,
        vocab_size: config.vocab_size,
        train_examples: train.len(),
        dev_examples: dev.len(),
        train_label_counts: label_counts,
        class_weights: LABELS.iter().map(|l| (l.as_str().to_string(), class_weights[l.index()])).collect(),
        epochs: history,
        best_epoch,
        stopped_early,
        seconds: started.elapsed().as_secs_f64(),
    };
    let mut info = BTreeMap::new();
    info.insert("train_examples".into(), serde_json::json!(report.train_examples));
    info.insert("dev_examples".into(), serde_json::json!(report.dev_examples));
    info.insert("best_epoch".into(), serde_json::json!(best_epoch));
    let best_dev = report.epochs.iter().find(|e| e.epoch == best_epoch).and_then(|e| e.dev.clone());
    info.insert("dev".into(), serde_json::json!(best_dev));
    let mut summary = opts.clone();
    summary.checkpoint_dir = None;
    summary.resume = None;
    info.insert("options".into(), serde_json::json!(summary));
    best.set_training_info(info);
    Ok((best, report))
}

/// Figures of `model` on `examples` (texts normalized first, as at prediction).
pub fn evaluate(model: &EncoderClassifier, examples: &[ThreatExample]) -> Result<DevFigures, ThreatError> {
    let texts: Vec<String> = examples.iter().map(|e| normalize(&e.text).text).collect();
    let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
    let probs = if examples.is_empty() { Vec::new() } else { model.predict_batch(&refs)? };
    let gold: Vec<usize> = examples.iter().map(|e| e.threat_type.index()).collect();
    Ok(figures(&gold, &probs))
}

/// [`DevFigures`] from true label indices and predicted probabilities.
pub fn figures(gold: &[usize], probs: &[LabelProbs]) -> DevFigures {
    let n = gold.len().min(probs.len());
    if n == 0 {
        return DevFigures::default();
    }
    let k = LABELS.len();
    let (mut tp, mut fp, mut fn_) = (vec![0usize; k], vec![0usize; k], vec![0usize; k]);
    let (mut correct, mut loss) = (0usize, 0f64);
    let mut confusion = vec![vec![0usize; k]; k];
    let (mut btp, mut bfp, mut bfn) = (0usize, 0usize, 0usize);
    for (&g, p) in gold.iter().zip(probs) {
        let predicted = (0..k).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
        loss -= (p.get(g).copied().unwrap_or(0.0).max(1e-7) as f64).ln();
        if g < k {
            confusion[g][predicted] += 1;
        }
        if predicted == g {
            correct += 1;
            tp[g] += 1;
        } else {
            fp[predicted] += 1;
            if g < k {
                fn_[g] += 1;
            }
        }
        let (is_threat, says_threat) = (g != 0, p[0] < 0.5);
        match (is_threat, says_threat) {
            (true, true) => btp += 1,
            (false, true) => bfp += 1,
            (true, false) => bfn += 1,
            (false, false) => {}
        }
    }
    let f1 = |tp: usize, fp: usize, fn_: usize| {
        if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
        }
    };
    let present: Vec<usize> = (0..k).filter(|&l| tp[l] + fp[l] + fn_[l] > 0).collect();
    let macro_f1 = present.iter().map(|&l| f1(tp[l], fp[l], fn_[l])).sum::<f64>() / present.len().max(1) as f64;
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    DevFigures {
        examples: n,
        loss: loss / n as f64,
        accuracy: correct as f64 / n as f64,
        macro_f1,
        binary_precision: ratio(btp, btp + bfp),
        binary_recall: ratio(btp, btp + bfn),
        binary_f1: f1(btp, bfp, bfn),
        confusion,
    }
}

/// Counts per label name and the weight of each label index.
fn class_weights(labels: &[usize], power: f32) -> (BTreeMap<String, usize>, Vec<f32>) {
    let mut counts = vec![0usize; LABELS.len()];
    for &l in labels {
        counts[l] += 1;
    }
    let largest = counts.iter().copied().max().unwrap_or(1).max(1) as f32;
    let mut weights: Vec<f32> =
        counts.iter().map(|&c| if c == 0 { 0.0 } else { (largest / c as f32).powf(power) }).collect();
    // Normalized so the mean weight of an example is 1 and the learning rate keeps its meaning.
    let mean = labels.iter().map(|&l| weights[l]).sum::<f32>() / labels.len().max(1) as f32;
    if mean > 0.0 {
        weights.iter_mut().for_each(|w| *w /= mean);
    }
    let named = LABELS.iter().zip(&counts).filter(|(_, &c)| c > 0).map(|(l, &c)| (l.as_str().to_string(), c)).collect();
    (named, weights)
}

/// Shuffled batches of indices, each cut from a length-sorted pool (see the module notes).
fn bucketed_batches(lengths: &[usize], batch_size: usize, rng: &mut SplitMix) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    rng.shuffle(&mut order);
    let mut batches = Vec::with_capacity(lengths.len().div_ceil(batch_size));
    for pool in order.chunks_mut(batch_size * BUCKET_POOL_BATCHES) {
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(|b| b.to_vec()));
    }
    rng.shuffle(&mut batches);
    batches
}

/// `row` without each token after `[CLS]` with probability `p`, keeping at least one token of a
/// non-empty text.
fn drop_tokens(row: &[u32], p: f32, rng: &mut SplitMix) -> Vec<u32> {
    if p <= 0.0 || row.len() <= 2 {
        return row.to_vec();
    }
    let mut out = Vec::with_capacity(row.len());
    out.push(row[0]);
    out.extend(row[1..].iter().copied().filter(|_| rng.next_f32() >= p));
    if out.len() == 1 {
        out.push(row[1 + rng.below(row.len() - 1)]);
    }
    out
}

/// Scales all gradients down together when their global norm exceeds `max_norm`.
fn clip_gradients(
    grads: &mut candle_core::backprop::GradStore,
    vars: &[(String, Var)],
    max_norm: f32,
) -> Result<(), ThreatError> {
    let mut sum = 0f32;
    for (_, v) in vars {
        if let Some(g) = grads.get(v) {
            sum += g.sqr()?.sum_all()?.to_scalar::<f32>()?;
        }
    }
    let norm = sum.sqrt();
    if norm.is_finite() && norm > max_norm {
        let factor = (max_norm / norm) as f64;
        for (_, v) in vars {
            if let Some(g) = grads.remove(v) {
                grads.insert(v, (g * factor)?);
            }
        }
    }
    Ok(())
}

/// Detached copies of the current weights.
fn snapshot(vars: &[(String, Var)]) -> Result<HashMap<String, Tensor>, ThreatError> {
    vars.iter().map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?.detach()))).collect()
}

fn epoch_dir_name(epoch: usize) -> String {
    format!("epoch-{epoch:03}")
}

fn write_checkpoint(model: &EncoderClassifier, dir: &Path, state: &TrainState) -> Result<(), ThreatError> {
    model.write_dir(dir)?;
    let path = dir.join(STATE_FILE);
    let json = serde_json::to_string_pretty(state).map_err(|e| ThreatError::Compute(e.to_string()))?;
    std::fs::write(&path, json).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threat::ThreatType;

    #[test]
    fn figures_count_labels_and_the_binary_split() {
        let mut p = [[0f32; 11]; 4];
        p[0][0] = 1.0; // benign, right
        p[1][1] = 1.0; // sql, right
        p[2][2] = 1.0; // truth sql, said xss: type wrong, binary right
        p[3][0] = 1.0; // truth xss, said benign: binary miss
        let f = figures(&[0, 1, 1, 2], &p);
        assert_eq!(f.examples, 4);
        assert!((f.accuracy - 0.5).abs() < 1e-9);
        assert!((f.binary_precision - 1.0).abs() < 1e-9);
        assert!((f.binary_recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((f.binary_f1 - 0.8).abs() < 1e-9);
        // benign F1 2/3, sql 2/3, xss 0.
        assert!((f.macro_f1 - (2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9, "{}", f.macro_f1);
        assert_eq!((f.confusion[1][2], f.confusion[2][0], f.confusion[0][0]), (1, 1, 1));
        assert_eq!(figures(&[], &[]), DevFigures::default());
    }

    #[test]
    fn rare_labels_weigh_more_and_the_mean_weight_is_one() {
        let labels: Vec<usize> = std::iter::repeat_n(0, 90).chain(std::iter::repeat_n(5, 10)).collect();
        let (counts, w) = class_weights(&labels, 0.5);
        assert_eq!(counts["benign"], 90);
        assert!((w[5] / w[0] - 3.0).abs() < 1e-5);
        let mean: f32 = labels.iter().map(|&l| w[l]).sum::<f32>() / 100.0;
        assert!((mean - 1.0).abs() < 1e-5);
        assert_eq!(w[ThreatType::Phishing.index()], 0.0);
    }

    #[test]
    fn batches_cover_every_example_once_and_repeat_for_a_seed() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 37) % 101).collect();
        let a = bucketed_batches(&lengths, 8, &mut SplitMix::new(5));
        let b = bucketed_batches(&lengths, 8, &mut SplitMix::new(5));
        assert_eq!(a, b);
        let mut all: Vec<usize> = a.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        // Within a batch lengths are close: the pool was sorted.
        let spread: usize = a.iter().map(|b| lengths[*b.last().unwrap()] - lengths[b[0]]).max().unwrap();
        assert!(spread <= 10, "{spread}");
        assert_ne!(a, bucketed_batches(&lengths, 8, &mut SplitMix::new(6)));
    }

    #[test]
    fn token_dropout_keeps_cls_and_a_token() {
        let mut rng = SplitMix::new(1);
        let row: Vec<u32> = (1..=200).collect();
        let thinned = drop_tokens(&row, 0.5, &mut rng);
        assert_eq!(thinned[0], 1);
        assert!((60..140).contains(&thinned.len()), "{}", thinned.len());
        assert!(thinned.windows(2).all(|w| w[0] < w[1]), "order is kept");
        for _ in 0..50 {
            assert_eq!(drop_tokens(&[1, 7, 8], 0.99, &mut rng).len(), 2);
        }
        assert_eq!(drop_tokens(&[1, 7], 0.99, &mut rng), vec![1, 7]);
        assert_eq!(drop_tokens(&row, 0.0, &mut rng), row);
    }

    #[test]
    fn bad_options_and_empty_data_are_refused() {
        let mut opts = EncoderTrainOptions { epochs: 0, ..Default::default() };
        assert!(train_encoder(&[], &[], &opts, &mut |_| {}).is_err());
        opts.epochs = 1;
        let err = train_encoder(&[], &[], &opts, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("no training examples"), "{err}");
        opts.learning_rate = f64::NAN;
        assert!(opts.validate().is_err());
    }
}
