// ECR lifecycle policy evaluation, as the ECR documentation states it, for replaying a repository's
// history against the rules terraform sets (test/infra/ecr-lifecycle.test.ts):
// - rules are applied in rulePriority order, and an image is judged only by the first rule whose
//   selection matches it ("an image that matches the tagging requirements of a rule cannot be
//   expired by a rule with a lower priority");
// - tagStatus "tagged" with tagPrefixList selects images that have, for every prefix, a tag starting
//   with it; "untagged" images with no tag; "any" every image;
// - imageCountMoreThan N expires all but the N most recently pushed images the rule selected;
//   sinceImagePushed N (days) expires those pushed more than N days ago.
// Not modelled (our policy uses none): tagPatternList wildcards, countUnit other than days.

export interface EcrImage {
  digest: string;
  tags: string[];
  /** Push time, in days from the start of the history. */
  pushedAt: number;
}

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: "tagged" | "untagged" | "any";
    tagPrefixList?: string[];
    countType: "imageCountMoreThan" | "sinceImagePushed";
    countUnit?: "days";
    countNumber: number;
  };
  action: { type: "expire" };
}

function selects(rule: LifecycleRule, image: EcrImage): boolean {
  const { tagStatus, tagPrefixList } = rule.selection;
  if (tagStatus === "untagged") return image.tags.length === 0;
  if (tagStatus === "any") return true;
  if (image.tags.length === 0) return false;
  return (tagPrefixList ?? []).every((prefix) => image.tags.some((tag) => tag.startsWith(prefix)));
}

/** The digests the policy expires from `images` at time `now` (days). */
export function expiredImages(images: EcrImage[], rules: LifecycleRule[], now: number): Set<string> {
  const ordered = [...rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const expired = new Set<string>();
  for (const [index, rule] of ordered.entries()) {
    if (rule.selection.tagStatus === "tagged" && !rule.selection.tagPrefixList?.length)
      throw new Error(`rule ${rule.rulePriority}: a tagged selection needs tagPrefixList`);
    if (rule.selection.tagStatus === "any" && index !== ordered.length - 1)
      throw new Error(`rule ${rule.rulePriority}: tagStatus any must have the lowest priority`);
    const claimed = images
      .filter((image) => selects(rule, image) && !ordered.slice(0, index).some((r) => selects(r, image)))
      .sort((a, b) => b.pushedAt - a.pushedAt);
    const { countType, countNumber } = rule.selection;
    const gone =
      countType === "imageCountMoreThan"
        ? claimed.slice(countNumber)
        : claimed.filter((image) => now - image.pushedAt > countNumber);
    for (const image of gone) expired.add(image.digest);
  }
  return expired;
}
