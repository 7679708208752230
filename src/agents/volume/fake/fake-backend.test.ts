import { backendConformance } from '../conformance.js';
import { createFakeBackend } from './fake-backend.js';

backendConformance('fake', { make: async () => createFakeBackend({ name: 'fake' }) });
