//! Certificates of distance networks (specs/certificate.md section 10):
//! `Claims::compute` makes them, `verify` confirms them, and every
//! certificate field, weight or datum changed afterwards makes a named
//! claim fail. The networks are built by tests/support/distance_net.rs,
//! independently of the compiler.

#[path = "support/distance_net.rs"]
mod distance_net;

use distance_net::{build, Net, Plan};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::verify::analyse::PNorm;
use robmem::verify::certificate::{
    data_sha256, Certificate, DataRef, FileRef, OutputClaim, PointClaims, ProjectionClaim,
    SeparationClaim, FORMAT,
};
use robmem::verify::check::{verify, ClaimRequest, Claims, Data, Verification};
use robmem::verify::distances::DistanceNorm;
use robmem::verify::model::{Element, Layer, Model};
use serde_json::Value;

fn to_model(net: &Net) -> Model {
    Model {
        input_dim: net.input_dim,
        layers: net
            .layers
            .iter()
            .map(|l| Layer {
                weight: Array2::from_shape_vec(
                    (l.weight.len(), l.weight[0].len()),
                    l.weight.iter().flatten().cloned().collect(),
                )
                .unwrap(),
                bias: Array1::from(l.bias.clone()),
                relu: l.relu,
            })
            .collect(),
        element: Element::F32,
        input_name: "x".into(),
        output_name: "y".into(),
        metadata: Vec::new(),
    }
}

struct Setup {
    points: Array2<f64>,
    labels: Vec<Value>,
    names: Vec<Value>,
    net: Net,
    model: Model,
    limit: f64,
    linf: bool,
}

fn setup(seed: u64, linf: bool) -> Setup {
    let (n, k, classes) = (15, 4, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pts: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..k)
                .map(|c| {
                    let x: f64 = if c == 0 {
                        3000.0 + rng.gen_range(0.0..4.0)
                    } else {
                        rng.gen_range(-5.0..5.0)
                    };
                    f64::from(x as f32)
                })
                .collect()
        })
        .collect();
    let labels: Vec<usize> = (0..n).map(|i| (i * 7) % classes).collect();
    let dist = |a: &[f64], b: &[f64]| {
        let g = a.iter().zip(b).map(|(x, y)| (x - y).abs());
        if linf {
            g.fold(0.0, f64::max)
        } else {
            g.sum()
        }
    };
    let mut delta = f64::INFINITY;
    for i in 0..n {
        for j in 0..i {
            if labels[i] != labels[j] {
                delta = delta.min(dist(&pts[i], &pts[j]));
            }
        }
    }
    let limit = delta / 2.0;
    let shift: Vec<f64> = (0..k)
        .map(|c| {
            let low = pts.iter().map(|x| x[c]).fold(f64::INFINITY, f64::min);
            f64::from((2.0 + limit - low) as f32)
        })
        .collect();
    let net = build(&Plan {
        points: pts.clone(),
        labels: labels.clone(),
        classes,
        linf,
        slots: 2,
        shift,
        alpha: 1.0,
        beta: vec![4.0; classes],
        round32: true,
    });
    Setup {
        points: Array2::from_shape_vec((n, k), pts.into_iter().flatten().collect()).unwrap(),
        labels: labels.iter().map(|&l| Value::from(l)).collect(),
        names: (0..classes).map(Value::from).collect(),
        model: to_model(&net),
        net,
        limit,
        linf,
    }
}

impl Setup {
    fn norm(&self) -> (&'static str, DistanceNorm) {
        if self.linf {
            ("linf", DistanceNorm::Linf)
        } else {
            ("l1", DistanceNorm::L1)
        }
    }

    fn data(&self) -> Data<'_> {
        Data {
            points: self.points.view(),
            labels: &self.labels,
        }
    }

    fn claims(&self, radius: f64, search: Option<f64>) -> Result<Claims, String> {
        let (name, q) = self.norm();
        Claims::compute(
            &self.model,
            &self.data(),
            &self.names,
            &ClaimRequest {
                layers: &self.net.roles,
                own_scores: &[],
                norm: PNorm::parse(name).unwrap(),
                radius,
                search_up_to: search,
                shift: &[],
                score_offset: 0.0,
                label_values: None,
                distance_norm: Some(q),
            },
        )
    }

    fn certificate(&self, claims: &Claims) -> Certificate {
        let (name, _) = self.norm();
        Certificate {
            format: FORMAT.into(),
            producer: "test".into(),
            network: "net".into(),
            norm: name.into(),
            construction: Some("distances".into()),
            distance_norm: Some(name.into()),
            radius: claims.radius,
            semantics: claims.semantics.clone(),
            output: OutputClaim {
                kind: "logits".into(),
                labels: self.names.clone(),
                tolerance: None,
            },
            model: FileRef {
                path: "net.onnx".into(),
                sha256: "cafe".into(),
            },
            data: DataRef {
                path: "spec.rmem".into(),
                network: "net".into(),
                sha256: data_sha256(self.points.view(), &self.labels),
                points: self.points.nrows(),
                dim: self.points.ncols(),
            },
            projection: ProjectionClaim {
                strategy: "identity".into(),
                m: self.points.ncols(),
                norm_bound: claims.norm_bound,
                shift: Vec::new(),
                score_offset: 0.0,
            },
            separation: SeparationClaim {
                delta_prime: claims.delta_prime,
                projected_radius: claims.projected_radius,
                gamma: claims.gamma,
            },
            rounding: claims.rounding.iter().cloned().collect(),
            layers: self.net.roles.clone(),
            points: PointClaims {
                score: Vec::new(),
                prototype: None,
                margin: claims.margins.iter().cloned().collect(),
                distance: Default::default(),
            },
        }
    }

    fn check(&self, cert: &Certificate) -> Verification {
        verify(cert, &self.model, "cafe", &self.data())
    }
}

fn failed(v: &Verification) -> Vec<String> {
    v.claims
        .iter()
        .filter(|c| !c.held)
        .map(|c| c.claim.clone())
        .collect()
}

#[test]
fn claims_are_confirmed_and_every_changed_figure_fails() {
    for linf in [false, true] {
        let s = setup(17, linf);
        let claims = s.claims(0.9 * s.limit, None).unwrap();
        assert_eq!(claims.semantics.len(), 3, "{:?}", claims.not_claimed);
        let cert = s.certificate(&claims);
        let v = s.check(&cert);
        assert!(v.holds(), "{:#?}", v.claims);
        // The fields survive JSON.
        let back: Certificate = serde_json::from_str(&cert.to_json()).unwrap();
        assert_eq!(back, cert);
        assert!(s.check(&back).holds());

        let expect = |cert: &Certificate, claim: &str| {
            let bad = failed(&s.check(cert));
            assert!(
                bad.iter().any(|c| c.starts_with(claim)),
                "expected `{claim}` to fail, got {bad:?}"
            );
        };
        let mut c = cert.clone();
        c.radius = 1.01 * s.limit;
        expect(&c, "margins");
        let mut c = cert.clone();
        c.points.margin.values_mut().next().unwrap()[3] += 1e-3;
        expect(&c, "margins");
        let mut c = cert.clone();
        c.separation.delta_prime *= 1.001;
        expect(&c, "delta'");
        let mut c = cert.clone();
        c.separation.projected_radius *= 0.999;
        expect(&c, "projected radius");
        let mut c = cert.clone();
        c.projection.norm_bound *= 0.999;
        expect(&c, "projection bound");
        let mut c = cert.clone();
        c.rounding.values_mut().next().unwrap().first_layer *= 0.5;
        expect(&c, "rounding");
        let mut c = cert.clone();
        c.construction = None;
        expect(&c, "construction");
        let mut c = cert.clone();
        c.distance_norm = Some("l2".into());
        expect(&c, "construction");
        let mut c = cert.clone();
        c.projection.shift = vec![0.0; 4];
        expect(&c, "distance layout");
        let mut c = cert.clone();
        c.points.score = vec![[1, 0]];
        expect(&c, "distance layout");
        let mut c = cert.clone();
        c.projection.m = 3;
        expect(&c, "gadgets");
        let mut c = cert.clone();
        let l = c
            .layers
            .iter()
            .position(|line| line.contains(" a"))
            .unwrap();
        c.layers[l] = c.layers[l].replacen(" a", " m", 1);
        expect(&c, "gadgets");

        // A weight changed in the model.
        let mut tampered = Setup {
            model: s.model.clone(),
            ..setup(17, linf)
        };
        tampered.model.layers[2].weight[[0, 0]] += 1e-3;
        let bad = failed(&tampered.check(&cert));
        assert_eq!(bad, vec!["gadgets".to_string()], "{bad:?}");
        // A label changed: the data hash, and the margins of that point.
        let mut other = setup(17, linf);
        other.labels[0] = Value::from((other.labels[0].as_u64().unwrap() + 1) % 3);
        let bad = failed(&other.check(&cert));
        assert!(
            bad.contains(&"data".to_string()) && bad.iter().any(|c| c.starts_with("margins")),
            "{bad:?}"
        );
    }
}

#[test]
fn search_finds_a_radius_close_to_the_limit_and_score_certificates_are_unchanged() {
    let s = setup(3, true);
    let claims = s.claims(0.1 * s.limit, Some(s.limit)).unwrap();
    assert!(
        claims.radius > 0.98 * s.limit && claims.radius < s.limit,
        "{} vs {}",
        claims.radius,
        s.limit
    );
    assert!(s.check(&s.certificate(&claims)).holds());
    // A certificate without the new fields serialises without them.
    let mut cert = s.certificate(&claims);
    cert.construction = None;
    cert.distance_norm = None;
    let json = cert.to_json();
    assert!(!json.contains("construction") && !json.contains("distance_norm"));
    // A score-network request on a distance network is rejected by the score checker.
    let (name, _) = s.norm();
    let refused = Claims::compute(
        &s.model,
        &s.data(),
        &s.names,
        &ClaimRequest {
            layers: &s.net.roles,
            own_scores: &[],
            norm: PNorm::parse(name).unwrap(),
            radius: 0.5 * s.limit,
            search_up_to: None,
            shift: &[],
            score_offset: 0.0,
            label_values: None,
            distance_norm: None,
        },
    );
    assert!(refused.is_err());
}
