/** The routes the meal-peak scenario judges, each with its own SLO. */
export const ROUTES = ['precise', 'rough', 'admin'] as const;
export type Route = (typeof ROUTES)[number];
