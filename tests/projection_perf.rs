//! Timing at MNIST scale (60,000 x 784): PCA (scatter matrix + eigen),
//! projection to m = 20 and the norm bound. Ignored by default; run with
//! `cargo test --release --test projection_perf -- --ignored --nocapture`.

mod projection_support;

use projection_support::blobs;
use robmem::analysis::separation::separation;
use robmem::construct::projection::{random, Candidate, PcaBasis, Strategy};
use robmem::norm::Norm;
use std::time::Instant;

#[test]
#[ignore = "timing at MNIST scale; takes seconds"]
fn pca_at_mnist_scale() {
    let t = Instant::now();
    let data = blobs(60_000, 784, 10, 0.3, 1);
    eprintln!("generate 60000 x 784: {:.2?}", t.elapsed());

    let t = Instant::now();
    let basis = PcaBasis::new(&data);
    eprintln!("pca basis (scatter + eigen): {:.2?}", t.elapsed());

    let t = Instant::now();
    let p = basis.projection(20, Norm::Linf).unwrap();
    eprintln!("slice + norm bound (linf): {:.2?}", t.elapsed());
    assert_eq!(p.strategy, Strategy::Pca);

    let t = Instant::now();
    let z = p.transform(data.points.view());
    eprintln!("transform to m = 20: {:.2?}", t.elapsed());
    assert_eq!(z.dim(), (60_000, 20));

    let t = Instant::now();
    let r = random(&data, 20, 0, 0, Norm::L2).unwrap();
    eprintln!("random m = 20 (QR + bound): {:.2?}", t.elapsed());
    assert_eq!(r.m(), 20);

    // Separation on a 6000-point subset (the full one is the separation
    // kernel's business).
    let sub = robmem::data::Dataset {
        points: z.slice(ndarray::s![..6000, ..]).to_owned(),
        labels: data.labels[..6000].to_vec(),
        classes: data.classes.clone(),
        provenance: data.provenance.clone(),
    };
    let t = Instant::now();
    let sep = separation(sub.points.view(), &sub.labels, Norm::L2);
    eprintln!(
        "separation of 6000 projected points: {:.2?} (delta' {})",
        t.elapsed(),
        sep.delta
    );
    let _ = Candidate::evaluate;
}
