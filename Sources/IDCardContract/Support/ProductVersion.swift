/// idcard-ocr's version: `idcard-ocr --version`, and what each worker reports in its heartbeat
/// (the dashboard's list of workers shows it, to spot a fleet half way through a deploy).
public enum ProductVersion {
    public static let current = "0.21.0"
}
