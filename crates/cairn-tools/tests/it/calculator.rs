use cairn_tools::{
    ToolError,
    calculator::{evaluate, format_number},
};

#[track_caller]
fn check(expression: &str, expected: f64) {
    match evaluate(expression) {
        Ok(value) => assert!(
            (value - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{expression:?} gave {value}, expected {expected}"
        ),
        Err(error) => panic!("{expression:?} failed: {error}"),
    }
}

#[track_caller]
fn check_error(expression: &str, expected: &str) {
    match evaluate(expression) {
        Ok(value) => {
            panic!("{expression:?} gave {value}, expected an error containing {expected:?}")
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(expected),
                "{expression:?}: {message:?} lacks {expected:?}"
            );
        }
    }
}

#[test]
fn arithmetic_and_precedence() {
    check("1 + 2 * 3", 7.0);
    check("(1 + 2) * 3", 9.0);
    check("10 - 4 - 3", 3.0);
    check("2 ^ 3 ^ 2", 512.0);
    check("2 ** 10", 1024.0);
    check("-2 ^ 2", -4.0);
    check("2 ^ -1", 0.5);
    check("-(3 - 5)", 2.0);
    check("--3", 3.0);
    check("7 % 3", 1.0);
    check("-7 % 3", -1.0);
    check("1 / 4", 0.25);
    check(".5 + 1.", 1.5);
    check("1.5e3 + 2E-1", 1500.2);
    check("  42  ", 42.0);
}

#[test]
fn functions_and_constants() {
    check("sqrt(16) + abs(-2)", 6.0);
    check("round(2.5) + floor(2.7) + ceil(2.1)", 3.0 + 2.0 + 3.0);
    check("round(1.23456, 2)", 1.23);
    check("ln(e)", 1.0);
    check("log10(1000)", 3.0);
    check("log(8, 2)", 3.0);
    check("sin(pi / 2) + cos(0) + tan(0)", 2.0);
    check("min(3, 1, 2) + max(3, 1, 2)", 4.0);
    check("pow(2, 8)", 256.0);
    check("PI * 2", std::f64::consts::TAU);
    check("π + τ", 3.0 * std::f64::consts::PI);
}

#[test]
fn notations_small_models_write() {
    check("12 × 37", 444.0);
    check("12 x 37", 444.0);
    check("12x37", 444.0);
    check("84 ÷ 4", 21.0);
    check("1,234 + 5", 1239.0);
    check("1,234,567.5 * 2", 2_469_135.0);
    check("(1,234)", 1234.0);
    check("max(1,234)", 234.0);
    check("max(1,234 + 1, 5)", 235.0);
    check("−3 − 2", -5.0);
    check("2 + 2 =", 4.0);
}

#[test]
fn bad_input_is_reported_with_its_position() {
    let error = evaluate("1 + * 2").unwrap_err();
    assert!(
        matches!(error, ToolError::Syntax { position: 5, .. }),
        "{error}"
    );
    let error = evaluate("2 + foo").unwrap_err();
    assert!(
        matches!(error, ToolError::Syntax { position: 5, .. }),
        "{error}"
    );
    check_error("(1 + 2", "ends too early; expected ')'");
    check_error("1 2", "character 3");
    check_error("1,23 + 1", "unexpected ','");
    check_error("sqrt", "sqrt is a function");
    check_error("pow(1)", "pow takes two arguments, not 1");
    check_error("", "empty");
    check_error("1..2", "character 3");
}

#[test]
fn impossible_results_are_errors_not_inf_or_nan() {
    check_error("1 / 0", "division by zero");
    check_error("1 / (2 - 2)", "division by zero");
    check_error("5 % 0", "division by zero");
    check_error("0 ^ -1", "division by zero");
    check_error("10 ^ 400", "too large");
    check_error("1e308 * 10", "too large");
    check_error("sqrt(-1)", "not real");
    check_error("ln(0)", "logarithm of zero");
    check_error("(-8) ^ (1/3)", "not a real number");
    check_error("asin(2)", "from -1 to 1");
}

#[test]
fn length_and_depth_are_bounded() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    check_error(&deep, "too long");
    let nested = format!("{}1{}", "(".repeat(400), ")".repeat(400));
    check_error(&nested, "nested more than");
    check_error(&"-".repeat(900), "nested more than");
    check(&format!("{}1{}", "(".repeat(50), ")".repeat(50)), 1.0);
}

#[test]
fn results_read_well() {
    assert_eq!(format_number(444.0), "444");
    assert_eq!(format_number(0.1 + 0.2), "0.3");
    assert_eq!(format_number(-2.5), "-2.5");
    assert_eq!(format_number(1.0 / 3.0), "0.333333333333");
    assert_eq!(format_number(1e20), "1e20");
    assert_eq!(format_number(1.5e-9), "1.5e-9");
    assert_eq!(format_number(evaluate("-0").unwrap()), "0");
}
