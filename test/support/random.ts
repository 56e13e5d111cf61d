// The project's seeded PRNG (mulberry32), so randomised tests are reproducible.
export { createRandom as seededRandom } from '../../core/compute/random.js';
