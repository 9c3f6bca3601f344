pub(super) fn separation(
    _p: ndarray::ArrayView2<f64>,
    _o: &super::order::ClassOrder,
) -> Option<super::Best> {
    None
}
