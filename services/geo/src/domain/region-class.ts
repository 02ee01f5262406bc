/**
 * The delivery-time model has a City-type feature with exactly three classes (the training data calls them
 * Metropolitian / Urban / Semi-Urban). In Seoul the whole city is "metropolitan" by any national measure, so
 * the class is assigned per dong from local food density instead: what matters for a delivery is how dense
 * the restaurant and street fabric is around the ends, not the size of the city.
 */
export const REGION_CLASSES = ['metropolitan', 'urban', 'semi-urban'] as const;
export type RegionClass = (typeof REGION_CLASSES)[number];

/**
 * Thresholds on a dong's food density (estimated food/drink shops within 500 m of a typical point in the
 * dong; see scripts/build-food-density.ts). Fixed numbers rather than quantiles, so that regenerating the
 * data moves a dong between classes only when its density really changed.
 */
export const REGION_THRESHOLDS = { metropolitan: 350, urban: 100 } as const;

export function classifyFoodDensity(foodDensity: number): RegionClass {
  if (foodDensity >= REGION_THRESHOLDS.metropolitan) return 'metropolitan';
  if (foodDensity >= REGION_THRESHOLDS.urban) return 'urban';
  return 'semi-urban';
}
