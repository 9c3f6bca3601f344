//! Evaluator (being written).
