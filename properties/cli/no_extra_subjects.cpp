// Keeps the extra-subjects object library non-empty when no extra subject is configured.
namespace kc::cli {
void no_extra_subjects() {}
}  // namespace kc::cli
